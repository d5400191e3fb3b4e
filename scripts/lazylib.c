/* The loader behind scripts/lazylib.sh's trampolines: on the first call of
 * any function of a lazily linked library, dlopen it and fill its table.
 * Part of the build, not of a module: it only knows the generated layout. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct skiff_lazy_lib {
	const char *soname;
	const char *names; /* count NUL-terminated names, back to back */
	void **table;
	unsigned long count;
	unsigned long loaded;
};

void skiff_lazy_load(struct skiff_lazy_lib *lib);

static pthread_mutex_t lazy_lock = PTHREAD_MUTEX_INITIALIZER;

static void __attribute__((noreturn)) lazy_missing(void)
{
	fputs("skiff: a lazily loaded library lacks a function it had at build time\n", stderr);
	abort();
}

void skiff_lazy_load(struct skiff_lazy_lib *lib)
{
	pthread_mutex_lock(&lazy_lock);
	if (!__atomic_load_n(&lib->loaded, __ATOMIC_ACQUIRE)) {
		void *h = dlopen(lib->soname, RTLD_LAZY | RTLD_GLOBAL);
		const char *name = lib->names;

		if (!h) {
			fprintf(stderr, "skiff: cannot load %s: %s\n", lib->soname, dlerror());
			abort();
		}
		for (unsigned long i = 0; i < lib->count; i++) {
			void *p = dlsym(h, name);
			__atomic_store_n(&lib->table[i], p ? p : (void *)lazy_missing,
					 __ATOMIC_RELEASE);
			name += strlen(name) + 1;
		}
		__atomic_store_n(&lib->loaded, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&lazy_lock);
}

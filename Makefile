# skiff: one multi-call binary, its tests, images and benchmarks.
# `make` builds build/skiff; see README.md for the rest.

MODULES := common api server controllers scheduler agent runtime netns volumes cli
PKGS := jansson yaml-0.1 libseccomp libcap libnl-3.0 libnl-route-3.0 libnftables ldns \
	libmicrohttpd sqlite3 gnutls libcurl libarchive

BUILD ?= build
V ?= 0
ifeq ($(V),0)
Q := @
say = @echo "  $(1)	$(2)"
else
Q :=
say = @true
endif
CC ?= cc
PREFIX ?= /usr/local
WARNINGS := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wformat=2 \
	-Wimplicit-fallthrough -Wvla -Werror
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -fno-strict-aliasing $(WARNINGS) $(CFLAGS) \
	$(EXTRA_CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Heavy libraries are linked lazily: each loads on the first call of one of
# its functions (scripts/lazylib.sh), so `skiff run` and every pod's
# supervisor start in about a millisecond and stay small. Only their
# functions can be used, not their data symbols (the link says so).
LAZY_PKGS := libnl-3.0 libnl-route-3.0 libnftables ldns libmicrohttpd sqlite3 gnutls libcurl \
	libarchive
LAZY_LIBS := $(sort $(filter-out m pthread dl c,$(patsubst -l%,%,$(filter -l%,\
	$(shell pkg-config --libs $(filter $(LAZY_PKGS),$(PKGS)) 2>/dev/null)))))
LDLIBS := $(shell pkg-config --libs $(filter-out $(LAZY_PKGS),$(PKGS)) 2>/dev/null) -lm -lpthread
ALL_LDFLAGS := -Wl,--as-needed $(LDFLAGS) $(EXTRA_LDFLAGS)

SRCS := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
OBJS := $(SRCS:%.c=$(BUILD)/%.o)
LAZY_OBJS := $(BUILD)/lazy/stubs.o $(BUILD)/lazy/lazylib.o
# everything but the command layer: what unit tests link against
LIB_OBJS := $(filter-out $(BUILD)/cli/%,$(OBJS)) $(LAZY_OBJS)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
HDRS := $(wildcard */*.h tests/unit/*.h)
BENCH_SRCS := $(wildcard bench/*.c)

.PHONY: all deps check test unit asan fuzz format format-check rootfs rootfs-debian bench install up clean

all: $(BUILD)/skiff $(UNIT_BINS)

$(BUILD)/%.o: %.c $(HDRS) | deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/skiff: $(OBJS) $(LAZY_OBJS)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(OBJS) $(LAZY_OBJS) $(LDLIBS)

$(BUILD)/lazy/stubs.S: scripts/lazylib.sh Makefile | deps-ok
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)
	$(Q)CC="$(CC)" scripts/lazylib.sh $@ "$(LAZY_LIBS)"

$(BUILD)/lazy/stubs.o: $(BUILD)/lazy/stubs.S
	$(call say,AS,$<)
	$(Q)$(CC) -c $< -o $@

$(BUILD)/lazy/lazylib.o: scripts/lazylib.c | deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB_OBJS) $(HDRS)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

# Fail early, with the fix, when the build's libraries are missing.
.PHONY: deps-ok
deps-ok:
	@pkg-config --exists $(PKGS) || { echo "missing build libraries: run 'sudo make deps'" >&2; \
		pkg-config --print-errors --exists $(PKGS); exit 1; }

deps:
	@scripts/deps.sh

unit: all
	@tests/run.sh --unit

check: deps
	@$(MAKE) --no-print-directory all
	@tests/run.sh --all

asan:
	@$(MAKE) --no-print-directory BUILD=build-asan \
		EXTRA_CFLAGS="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" all
	@SKIFF_BUILD=build-asan tests/run.sh --unit --integration

# libFuzzer targets (tests/fuzz/fuzz_*.c) over api/ and common/, built with
# clang, ASan and UBSan into build-fuzz/; `make fuzz` runs each FUZZ_TIME s.
FUZZ_BUILD := build-fuzz
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_OBJS := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(wildcard api/*.c common/*.c netns/*.c))
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FUZZ_BUILD)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_BUILD)/%.o: %.c $(HDRS) | deps-ok
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(call say,LINK,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJS) \
		$(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread

# fuzz_protobuf includes the server's decoder itself
$(FUZZ_BUILD)/fuzz_protobuf: server/protobuf.c

.SECONDARY: $(FUZZ_OBJS)
.PHONY: fuzz-build
fuzz-build: $(FUZZ_BINS)

fuzz:
	@tests/fuzz/run.sh

# every C file the format check looks at (tests/format-check.sh: git ls-files)
format:
	@clang-format -i $$(git ls-files '*.c' '*.h' 2>/dev/null || echo $(SRCS) $(HDRS) \
		$(UNIT_SRCS) $(wildcard tests/fuzz/*.c) $(BENCH_SRCS))

format-check:
	@tests/format-check.sh

# IMAGE_DIR=DIR imports into another store than /var/lib/skiff/images
rootfs: all
	@rootfs-examples/build.sh $(if $(IMAGE_DIR),--image-dir $(IMAGE_DIR))

rootfs-debian: all
	@rootfs-examples/build.sh $(if $(IMAGE_DIR),--image-dir $(IMAGE_DIR)) debian

# the benchmarks' own timing helper (bench/interleave.c)
$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< -lm

# benchmark tools that talk to a cluster with skiff's own HTTP client
$(BUILD)/bench/cluster-pods $(BUILD)/bench/sched-bind: $(BUILD)/bench/%: bench/%.c $(LIB_OBJS) $(HDRS)
	@mkdir -p $(dir $@)
	$(call say,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB_OBJS) $(LDLIBS)

bench: all $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)
	@bench/run.sh

install: $(BUILD)/skiff
	install -D -m 0755 $(BUILD)/skiff $(DESTDIR)$(PREFIX)/bin/skiff

up: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory rootfs
	@scripts/up.sh

clean:
	rm -rf build build-asan build-fuzz

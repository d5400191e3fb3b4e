/* The agent's plumbing between threads: work posted to the main loop
 * (through an eventfd), and pools of worker threads for what blocks.
 * A pool keeps min_threads alive and grows to max_threads when every
 * thread is busy, so a graceful stop that waits 30 seconds never holds up
 * the next pod's start; extra threads end after a minute idle. */
#include "agent_internal.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define IDLE_EXIT_S 60

struct agent_post_item {
	agent_fn fn;
	void *data;
	struct agent_post_item *next;
};

void agent_post(agent *a, agent_fn fn, void *data)
{
	struct agent_post_item *it = sk_calloc(1, sizeof(*it));
	uint64_t one = 1;

	it->fn = fn;
	it->data = data;
	pthread_mutex_lock(&a->post_lock);
	if (a->post_tail)
		a->post_tail->next = it;
	else
		a->post_head = it;
	a->post_tail = it;
	pthread_mutex_unlock(&a->post_lock);
	(void)!write(a->post_fd, &one, sizeof(one));
}

/* The loop side: run everything posted so far, in order. */
int agent_post_drain(sk_loop *loop SK_UNUSED, int fd, uint32_t events SK_UNUSED, void *data);
int agent_post_drain(sk_loop *loop SK_UNUSED, int fd, uint32_t events SK_UNUSED, void *data)
{
	agent *a = data;
	struct agent_post_item *it;
	uint64_t n;

	(void)!read(fd, &n, sizeof(n));
	pthread_mutex_lock(&a->post_lock);
	it = a->post_head;
	a->post_head = a->post_tail = NULL;
	pthread_mutex_unlock(&a->post_lock);
	while (it) {
		struct agent_post_item *next = it->next;
		it->fn(a, it->data);
		free(it);
		it = next;
	}
	return 0;
}

/* ---- pools ------------------------------------------------------------------ */

struct job {
	agent_job_fn run;
	agent_fn done;
	void *data;
	struct job *next;
};

struct agent_pool {
	agent *a;
	char name[16];
	pthread_mutex_t lock;
	pthread_cond_t cond, ended;
	struct job *head, *tail;
	int threads, idle, min, max;
	bool closing;
};

agent_pool *agent_pool_new(agent *a, const char *name, int min_threads, int max_threads)
{
	agent_pool *p = sk_calloc(1, sizeof(*p));

	p->a = a;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->min = min_threads < 1 ? 1 : min_threads;
	p->max = max_threads < p->min ? p->min : max_threads;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	pthread_cond_init(&p->ended, NULL);
	return p;
}

static void worker_clear(struct agent_worker *w)
{
	sk_http_free(w->http);
	net_node_free(w->net);
}

sk_http *agent_worker_http(struct agent_worker *w, sk_err *err)
{
	if (!w->http && agent_http_new(&w->a->cfg, &w->http, err) < 0)
		return NULL;
	return w->http;
}

net_node *agent_worker_net(struct agent_worker *w, sk_err *err)
{
	agent *a = w->a;

	if (!a->pod_cidr) {
		sk_err_set(err, EAGAIN, "the node has no pod CIDR yet");
		return NULL;
	}
	if (!w->net) {
		struct net_node_config nc = {
			.state_dir = a->cfg.state_dir,
			.bridge = a->cfg.bridge,
			.pod_cidr = a->pod_cidr,
			.cluster_cidr = a->cfg.cluster_cidr,
			.service_cidr = a->cfg.service_cidr,
			.table = a->cfg.nft_table,
			.cluster_domain = a->cfg.cluster_domain,
		};
		if (net_node_open(&nc, &w->net, err) < 0)
			return NULL;
	}
	return w->net;
}

/* Next job, or NULL when the thread should end (pool closing and empty,
 * or an extra thread idle for a minute). */
static struct job *next_job(agent_pool *p)
{
	struct job *j;

	pthread_mutex_lock(&p->lock);
	/* closing: what has not started is dropped (the agent is going away) */
	while (p->closing && p->head) {
		j = p->head;
		p->head = j->next;
		free(j);
	}
	if (!p->head)
		p->tail = NULL;
	while (!p->head && !p->closing) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += IDLE_EXIT_S;
		p->idle++;
		int r = pthread_cond_timedwait(&p->cond, &p->lock, &ts);
		p->idle--;
		if (r == ETIMEDOUT && !p->head && p->threads > p->min)
			break;
	}
	j = p->head;
	if (j) {
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
	} else {
		p->threads--;
		pthread_cond_broadcast(&p->ended);
	}
	pthread_mutex_unlock(&p->lock);
	return j;
}

static void *worker_main(void *arg)
{
	agent_pool *p = arg;
	struct agent_worker w = {.a = p->a};
	struct job *j;

	pthread_setname_np(pthread_self(), p->name);
	while ((j = next_job(p))) {
		j->run(&w, j->data);
		if (j->done)
			agent_post(p->a, j->done, j->data);
		free(j);
	}
	worker_clear(&w);
	return NULL;
}

static void spawn_thread(agent_pool *p)
{
	pthread_t t;
	pthread_attr_t attr;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&t, &attr, worker_main, p) == 0)
		p->threads++;
	pthread_attr_destroy(&attr);
}

void agent_pool_submit(agent_pool *p, agent_job_fn run, agent_fn done, void *data)
{
	struct job *j;

	if (!p) {
		sk_debug("agent: a job after the pools ended was dropped");
		return;
	}
	j = sk_calloc(1, sizeof(*j));
	j->run = run;
	j->done = done;
	j->data = data;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	if (p->idle == 0 && p->threads < p->max)
		spawn_thread(p);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

void agent_pool_free(agent_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	pthread_cond_broadcast(&p->cond);
	while (p->threads > 0)
		pthread_cond_wait(&p->ended, &p->lock);
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	pthread_cond_destroy(&p->ended);
	free(p);
}

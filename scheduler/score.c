/* Choosing among the nodes that pass the filters: the default profile's
 * scores that matter here, normalized over the feasible nodes and
 * weighed as the profile weighs them, and kube-scheduler's FitError
 * message when no node passes. */
#include "scheduler.h"

#include <errno.h>

struct candidate {
	size_t index;
	int64_t fit, taints, affinity;
	int64_t total;
};

/* The framework's DefaultNormalizeScore: scale to 0..100 by the highest
 * raw score; reversed, fewer is better (and all-zero means all best). */
static int64_t normalize(int64_t raw, int64_t max, bool reverse)
{
	if (max == 0)
		return reverse ? 100 : 0;
	int64_t s = raw * 100 / max;
	return reverse ? 100 - s : s;
}

static void score_all(struct candidate *c, size_t n)
{
	int64_t max_taints = 0, max_affinity = 0;

	for (size_t i = 0; i < n; i++) {
		if (c[i].taints > max_taints)
			max_taints = c[i].taints;
		if (c[i].affinity > max_affinity)
			max_affinity = c[i].affinity;
	}
	for (size_t i = 0; i < n; i++)
		c[i].total = c[i].fit * 1 + normalize(c[i].taints, max_taints, true) * 3 +
			     normalize(c[i].affinity, max_affinity, false) * 2;
}

/* ---- the FitError message ----------------------------------------------------------- */

struct histogram {
	char (*reason)[320];
	size_t *count;
	size_t n;
};

static void histogram_add(struct histogram *h, const char *r)
{
	for (size_t i = 0; i < h->n; i++) {
		if (!strcmp(h->reason[i], r)) {
			h->count[i]++;
			return;
		}
	}
	h->reason = sk_realloc(h->reason, (h->n + 1) * sizeof(*h->reason));
	h->count = sk_realloc(h->count, (h->n + 1) * sizeof(*h->count));
	snprintf(h->reason[h->n], sizeof(h->reason[0]), "%s", r);
	h->count[h->n++] = 1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "0/N nodes are available: " and the "COUNT reason" strings sorted as
 * strings (Go's sort.Strings), comma-separated, then a period. */
static char *fit_error(struct histogram *h, size_t nnodes)
{
	char **items = sk_calloc(h->n ? h->n : 1, sizeof(char *));
	sk_buf b;

	for (size_t i = 0; i < h->n; i++)
		items[i] = sk_asprintf("%zu %s", h->count[i], h->reason[i]);
	qsort(items, h->n, sizeof(char *), cmp_str);
	sk_buf_init(&b);
	sk_buf_printf(&b, "0/%zu nodes are available:", nnodes);
	for (size_t i = 0; i < h->n; i++) {
		sk_buf_printf(&b, "%s%s", i ? ", " : " ", items[i]);
		free(items[i]);
	}
	sk_buf_putc(&b, '.');
	free(items);
	return sk_buf_steal(&b);
}

ssize_t sched_pick(const sched_pod *p, sched_node *const *nodes, size_t n, char **message)
{
	struct candidate *cand = sk_calloc(n ? n : 1, sizeof(*cand));
	struct histogram h = {0};
	sched_reasons why;
	size_t ncand = 0;
	ssize_t best = -1;

	*message = NULL;
	if (n == 0) {
		free(cand);
		*message = sk_strdup("no nodes available to schedule pods");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!sched_filter(p, nodes[i], &why)) {
			for (size_t j = 0; j < why.n; j++)
				histogram_add(&h, why.r[j]);
			continue;
		}
		cand[ncand++] = (struct candidate){
			.index = i,
			.fit = sched_score_most_allocated(p, nodes[i]),
			.taints = sched_score_intolerable_taints(p, nodes[i]),
			.affinity = sched_score_preferred_affinity(p, nodes[i]),
		};
	}
	score_all(cand, ncand);
	for (size_t i = 0; i < ncand; i++) {
		if (best < 0 || cand[i].total > cand[best].total ||
		    (cand[i].total == cand[best].total &&
		     strcmp(nodes[cand[i].index]->name, nodes[cand[best].index]->name) < 0))
			best = (ssize_t)i;
	}
	ssize_t chosen = best < 0 ? -1 : (ssize_t)cand[best].index;
	if (chosen < 0)
		*message = fit_error(&h, n);
	free(cand);
	free(h.reason);
	free(h.count);
	return chosen;
}

/* common/tabwriter.c: kubectl's table layout (minwidth 6, padding 3). */
#include "../../common/common.h"
#include "tap.h"

static char *fmt(const char *in)
{
	sk_tabwriter t;
	sk_buf out;

	sk_tabwriter_init(&t, 6, 3, true);
	sk_buf_init(&out);
	sk_tabwriter_puts(&t, in);
	sk_tabwriter_flush(&t, &out);
	sk_tabwriter_free(&t);
	return sk_buf_steal(&out);
}

static void check(const char *in, const char *want, const char *name)
{
	_cleanup_free_ char *got = fmt(in);

	is_str(got, want, "%s", name);
}

int main(void)
{
	check("NAME\tREADY\tSTATUS\tRESTARTS\tAGE\nweb\t1/1\tRunning\t0\t5m\n",
	      "NAME   READY   STATUS    RESTARTS   AGE\n"
	      "web    1/1     Running   0          5m\n",
	      "pod table: widest cell + 3, minimum 6, last column unpadded");
	check("a\tb\n\nlonger-name\tc\n", "a     b\n\nlonger-name   c\n",
	      "an empty line ends the column block");
	check("x\ty\tz\nxx\n", "x     y     z\nxx\n", "a one-cell line is not padded");
	check("é\tb\n", "é     b\n", "widths count characters, not bytes");
	check("a\tb", "a     b", "no newline at the end: none added");
	check("Name:\tweb\nLabels:\tapp=x\n  \tt=y\n",
	      "Name:     web\nLabels:   app=x\n          t=y\n", "describe-style key column");
	{
		sk_tabwriter t;
		sk_buf out;

		sk_tabwriter_init(&t, 6, 3, true);
		sk_buf_init(&out);
		sk_tabwriter_puts(&t, "NAME\tSTATUS\tAGE\nweb\tRunning\t5m\n");
		sk_tabwriter_flush(&t, &out);
		sk_tabwriter_puts(&t, "x\tPending\t1s\n");
		sk_tabwriter_flush(&t, &out);
		sk_tabwriter_puts(&t, "a-longer-name\tCrashLoopBackOff\t2s\n");
		sk_tabwriter_flush(&t, &out);
		is_str(out.data,
		       "NAME   STATUS    AGE\n"
		       "web    Running   5m\n"
		       "x      Pending   1s\n"
		       "a-longer-name   CrashLoopBackOff   2s\n",
		       "remembered widths: watch rows keep the header's columns and only grow");
		sk_tabwriter_forget(&t);
		sk_tabwriter_puts(&t, "a\tb\n");
		sk_tabwriter_flush(&t, &out);
		like(out.data, "\na     b\n", "forgotten widths start again");
		sk_buf_free(&out);
		sk_tabwriter_free(&t);
	}
	return done_testing();
}

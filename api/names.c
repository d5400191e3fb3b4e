/* Name syntax checks with apimachinery's util/validation messages: DNS-1123
 * labels and subdomains, DNS-1035 labels, qualified names (label and
 * annotation keys), label values. Each check fills up to NAME_MAX_MSGS
 * static messages, one field error each, as Kubernetes reports them. */
#include "api_internal.h"

#include <ctype.h>
#include <string.h>

#define EG_LABEL "(e.g. 'my-name',  or '123-abc', "
#define RX_LABEL "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
#define MSG_DNS1123_LABEL                                                                \
	"a lowercase RFC 1123 label must consist of lower case alphanumeric characters " \
	"or '-', and must start and end with an alphanumeric character " EG_LABEL        \
	"regex used for validation is '" RX_LABEL "')"
#define MSG_DNS1123_SUBDOMAIN                                                                 \
	"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, " \
	"'-' or '.', and must start and end with an alphanumeric character (e.g. "            \
	"'example.com', regex used for validation is '" RX_LABEL "(\\." RX_LABEL ")*')"
#define MSG_DNS1035_LABEL                                                                    \
	"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start " \
	"with an alphabetic character, and end with an alphanumeric character (e.g. "        \
	"'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
#define RX_QNAME "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
#define MSG_QNAME_BODY                                                                      \
	"must consist of alphanumeric characters, '-', '_' or '.', and must start and end " \
	"with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', "     \
	"regex used for validation is '" RX_QNAME "')"
#define MSG_LABEL_VALUE                                                                      \
	"a valid label must be an empty string or consist of alphanumeric characters, '-', " \
	"'_' or '.', and must start and end with an alphanumeric character (e.g. "           \
	"'MyValue',  or 'my_value',  or '12345', regex used for validation is '(" RX_QNAME ")?')"

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
	return isascii((unsigned char)c) && isalnum((unsigned char)c);
}

/* [a-z0-9]([-a-z0-9]*[a-z0-9])? over s[0..n). */
static bool match_label(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	return true;
}

static bool match_subdomain(const char *s, size_t n)
{
	size_t start = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '.') {
			if (!match_label(s + start, i - start))
				return false;
			start = i + 1;
		}
	}
	return true;
}

/* ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool match_qname(const char *s, size_t n)
{
	if (n == 0 || !is_alnum(s[0]) || !is_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

static int push(const char **msgs, int n, const char *m)
{
	if (n < NAME_MAX_MSGS)
		msgs[n++] = m;
	return n;
}

int names_dns1123_label(const char *s, const char **msgs)
{
	size_t len = strlen(s);
	int n = 0;

	if (len > 63)
		n = push(msgs, n, "must be no more than 63 characters");
	if (!match_label(s, len)) {
		if (match_subdomain(s, len))
			n = push(msgs, n, "must not contain dots");
		else
			n = push(msgs, n, MSG_DNS1123_LABEL);
	}
	return n;
}

int names_dns1123_subdomain(const char *s, const char **msgs)
{
	size_t len = strlen(s);
	int n = 0;

	if (len > 253)
		n = push(msgs, n, "must be no more than 253 characters");
	if (!match_subdomain(s, len))
		n = push(msgs, n, MSG_DNS1123_SUBDOMAIN);
	return n;
}

int names_dns1035_label(const char *s, const char **msgs)
{
	size_t len = strlen(s);
	int n = 0;

	if (len > 63)
		n = push(msgs, n, "must be no more than 63 characters");
	if (!match_label(s, len) || !(s[0] >= 'a' && s[0] <= 'z'))
		n = push(msgs, n, MSG_DNS1035_LABEL);
	return n;
}

int names_qualified_name(const char *s, const char **msgs)
{
	const char *slash = strchr(s, '/');
	const char *name = s;
	int n = 0;

	if (slash && strchr(slash + 1, '/'))
		return push(msgs, 0,
			    "a qualified name " MSG_QNAME_BODY " with an optional DNS subdomain "
			    "prefix and '/' (e.g. 'example.com/MyName')");
	if (slash) {
		size_t plen = (size_t)(slash - s);
		name = slash + 1;
		if (plen == 0) {
			n = push(msgs, n, "prefix part must be non-empty");
		} else {
			if (plen > 253)
				n = push(msgs, n,
					 "prefix part must be no more than 253 characters");
			if (!match_subdomain(s, plen))
				n = push(msgs, n, "prefix part " MSG_DNS1123_SUBDOMAIN);
		}
	}
	if (!*name)
		n = push(msgs, n, "name part must be non-empty");
	else if (strlen(name) > 63)
		n = push(msgs, n, "name part must be no more than 63 characters");
	if (!match_qname(name, strlen(name)))
		n = push(msgs, n, "name part " MSG_QNAME_BODY);
	return n;
}

int names_label_value(const char *s, const char **msgs)
{
	size_t len = strlen(s);
	int n = 0;

	if (len > 63)
		n = push(msgs, n, "must be no more than 63 characters");
	if (len && !match_qname(s, len))
		n = push(msgs, n, MSG_LABEL_VALUE);
	return n;
}

/* generateName is checked with its trailing '-' masked, as
 * apimachinery's maskTrailingDash does: "web-" is a fine prefix. */
int names_check(enum name_rule rule, const char *s, bool prefix, const char **msgs)
{
	char buf[512];

	if (prefix && strlen(s) > 1 && strlen(s) < sizeof(buf) && s[strlen(s) - 1] == '-') {
		snprintf(buf, sizeof(buf), "%s", s);
		buf[strlen(buf) - 1] = 'a';
		s = buf;
	}
	switch (rule) {
	case NAME_DNS1123_LABEL:
		return names_dns1123_label(s, msgs);
	case NAME_DNS1123_SUBDOMAIN:
		return names_dns1123_subdomain(s, msgs);
	case NAME_DNS1035_LABEL:
		return names_dns1035_label(s, msgs);
	case NAME_PATH_SEGMENT:
		return names_path_segment(s, msgs);
	}
	return 0;
}

/* Names that end up in a URL path: not "." or "..", no '/' or '%'. */
int names_path_segment(const char *s, const char **msgs)
{
	static char dot[] = "may not be '.'", dotdot[] = "may not be '..'";
	int n = 0;

	if (strcmp(s, ".") == 0)
		return push(msgs, 0, dot);
	if (strcmp(s, "..") == 0)
		return push(msgs, 0, dotdot);
	if (strchr(s, '/'))
		n = push(msgs, n, "may not contain '/'");
	if (strchr(s, '%'))
		n = push(msgs, n, "may not contain '%'");
	return n;
}

const char *api_check_dns1123_label(const char *s)
{
	const char *m[NAME_MAX_MSGS];

	return names_dns1123_label(s, m) ? m[0] : NULL;
}

const char *api_check_dns1123_subdomain(const char *s)
{
	const char *m[NAME_MAX_MSGS];

	return names_dns1123_subdomain(s, m) ? m[0] : NULL;
}

const char *api_check_dns1035_label(const char *s)
{
	const char *m[NAME_MAX_MSGS];

	return names_dns1035_label(s, m) ? m[0] : NULL;
}

const char *api_check_qualified_name(const char *s)
{
	const char *m[NAME_MAX_MSGS];

	return names_qualified_name(s, m) ? m[0] : NULL;
}

const char *api_check_label_value(const char *s)
{
	const char *m[NAME_MAX_MSGS];

	return names_label_value(s, m) ? m[0] : NULL;
}

#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "sl-http.h"

/*
 * The daemon's request decoding, linked from stdiolinkd/sl-http.c. Input: the body, NUL, the
 * raw query, NUL, Host, NUL, Origin, NUL, Authorization, then any further parts as more
 * Host headers. The body reaches sl_http_parse_body() in two chunks, as libsoup may hand it
 * over; the query goes through sl_http_parse_query() and every value through
 * sl_http_parse_int(); the headers through the Host, Origin and token checks.
 */

static SoupServerMessage *
message_new(GBytes *body)
{
	SoupServerMessage *msg = g_object_new(SOUP_TYPE_SERVER_MESSAGE, NULL);
	SoupMessageBody *request_body = soup_server_message_get_request_body(msg);
	gsize length = 0;
	const char *data = g_bytes_get_data(body, &length);
	gsize half = length / 2;

	if (half > 0)
		soup_message_body_append(request_body, SOUP_MEMORY_COPY, data, half);
	if (length > half)
		soup_message_body_append(request_body, SOUP_MEMORY_COPY, data + half,
					 length - half);
	return msg;
}

static void
check_body(SoupServerMessage *msg)
{
	g_autoptr(JsonObject) body = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	body = sl_http_parse_body(msg, &error);
	g_assert_true((body == NULL) == (error != NULL));
	if (body == NULL) {
		g_assert_cmpuint(sl_http_status_for_error(error), ==, SOUP_STATUS_BAD_REQUEST);
		return;
	}
	node = stdiolink_json_node_new_object(json_object_ref(body));
	fuzz_render(node);
}

static void
check_query(const char *raw_query)
{
	g_autoptr(GHashTable) query = sl_http_parse_query(raw_query);
	GHashTableIter iter;
	gpointer name;
	gpointer value;

	g_hash_table_iter_init(&iter, query);
	while (g_hash_table_iter_next(&iter, &name, &value)) {
		gint number = 0;

		g_assert_nonnull(name);
		(void)sl_http_parse_int(value, &number);
	}
}

static void
add_header(SoupServerMessage *msg, const char *name, const char *value)
{
	/* libsoup's parser never makes a value with CR or LF, and refuses to append one */
	if (strpbrk(value, "\r\n") != NULL)
		return;
	soup_message_headers_append(soup_server_message_get_request_headers(msg), name, value);
}

/* Host, Origin, Authorization, then more Host headers */
static void
add_headers(SoupServerMessage *msg, FuzzInput *in)
{
	const char *const names[] = {"Host", "Origin", "Authorization"};
	char *value;

	for (guint i = 0; (value = fuzz_input_next_string(in)) != NULL; i++) {
		add_header(msg, i < G_N_ELEMENTS(names) ? names[i] : "Host", value);
		g_free(value);
	}
}

static void
check_headers(SoupServerMessage *msg)
{
	g_autoptr(StdiolinkServerConfig) config = stdiolink_server_config_new_default();
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);
	const char *authorization = soup_message_headers_get_one(headers, "Authorization");

	(void)sl_http_check_host(config, TRUE, msg, NULL);
	(void)sl_http_check_host(config, FALSE, msg, NULL);
	(void)sl_http_check_origin(config, msg, NULL);

	g_strfreev(config->allowed_hosts);
	config->allowed_hosts = g_strsplit("example.com,EXAMPLE.org:8080", ",", -1);
	g_free(config->cors_origin);
	config->cors_origin = g_strdup("http://example.com");
	(void)sl_http_check_host(config, TRUE, msg, NULL);
	(void)sl_http_check_origin(config, msg, NULL);
	sl_http_add_cors(config, msg);

	/* without a Bearer header the check reads the URI, which a bare message lacks */
	if (authorization != NULL && g_ascii_strncasecmp(authorization, "Bearer ", 7) == 0) {
		(void)sl_http_check_token("secret-token", msg, NULL);
		(void)sl_http_check_token("", msg, NULL);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput in;
	g_autoptr(GBytes) body = NULL;
	g_autofree char *raw_query = NULL;
	g_autoptr(SoupServerMessage) msg = NULL;

	fuzz_input_init(&in, data, size);
	body = fuzz_input_next(&in);
	raw_query = fuzz_input_next_string(&in);
	msg = message_new(body);
	check_body(msg);
	check_query(raw_query);

	add_headers(msg, &in);
	check_headers(msg);
	return 0;
}

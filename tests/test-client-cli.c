/* posix_openpt() and friends */
#define _GNU_SOURCE

#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../stdiolinkctl/slc-console.h"
#include "stdiolink.h"
#include "sl-test-utils.h"

/*
 * The HTTP client and the stdiolinkctl program, without a daemon. A SoupServer in this
 * process answers canned JSON; it only stands in for the daemon where the client's error
 * decoding and the CLI's layout are checked. stdiolinkctl itself runs as a real process
 * (STDIOLINKCTL, set by tests/meson.build).
 */

/* canned server */

typedef struct {
	guint status;
	char *body; /* NULL: no body */
} CannedAnswer;

typedef struct {
	SoupServer *server;
	char *url;
	GHashTable *answers; /* "METHOD /path" -> CannedAnswer */
	guint n_requests;
	char *last_method;
	char *last_path;
	char *last_query;
	char *last_body;
	char *last_content_type;
	char *last_prefer;
	GPtrArray *log; /* "METHOD /path?query" of every request, in order */
} TestServer;

static void
canned_answer_free(CannedAnswer *answer)
{
	g_free(answer->body);
	g_free(answer);
}

static void
record_request(TestServer *ts, SoupServerMessage *msg)
{
	GUri *uri = soup_server_message_get_uri(msg);
	SoupMessageBody *body = soup_server_message_get_request_body(msg);
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);

	ts->n_requests++;
	g_free(ts->last_method);
	ts->last_method = g_strdup(soup_server_message_get_method(msg));
	g_free(ts->last_path);
	ts->last_path = g_strdup(g_uri_get_path(uri));
	g_free(ts->last_query);
	ts->last_query = g_strdup(g_uri_get_query(uri));
	g_free(ts->last_body);
	ts->last_body = g_strndup(body->data != NULL ? body->data : "", (gsize)body->length);
	g_free(ts->last_content_type);
	ts->last_content_type = g_strdup(soup_message_headers_get_content_type(headers, NULL));
	g_free(ts->last_prefer);
	ts->last_prefer = g_strdup(soup_message_headers_get_one(headers, "Prefer"));
	g_ptr_array_add(ts->log, g_strdup_printf("%s %s%s%s", ts->last_method, ts->last_path,
						 ts->last_query != NULL ? "?" : "",
						 ts->last_query != NULL ? ts->last_query : ""));
}

static void
server_cb(SoupServer *server,
	  SoupServerMessage *msg,
	  const char *path,
	  GHashTable *query,
	  gpointer user_data)
{
	TestServer *ts = user_data;
	g_autofree char *key = NULL;
	CannedAnswer *answer;

	record_request(ts, msg);
	key = g_strdup_printf("%s %s", ts->last_method, ts->last_path);
	answer = g_hash_table_lookup(ts->answers, key);
	if (answer == NULL) {
		const char *missing = "{\"error\":\"not found\",\"code\":\"not_found\"}";

		soup_server_message_set_status(msg, SOUP_STATUS_NOT_FOUND, NULL);
		soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_STATIC,
						 missing, strlen(missing));
		return;
	}
	soup_server_message_set_status(msg, answer->status, NULL);
	if (answer->body != NULL) {
		soup_server_message_set_response(msg, "application/json", SOUP_MEMORY_COPY,
						 answer->body, strlen(answer->body));
	}
}

static TestServer *
test_server_new(void)
{
	TestServer *ts = g_new0(TestServer, 1);
	g_autoptr(GError) error = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GSocketAddress) local = NULL;

	ts->answers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					    (GDestroyNotify)canned_answer_free);
	ts->log = g_ptr_array_new_with_free_func(g_free);
	ts->server = soup_server_new(NULL, NULL);
	soup_server_add_handler(ts->server, NULL, server_cb, ts, NULL);

	/* our own socket, and the port read from it: soup_server_get_uris() leaks an address
	 * in libsoup 3.2 */
	socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
			      G_SOCKET_PROTOCOL_TCP, &error);
	g_assert_no_error(error);
	g_socket_bind(socket, address, TRUE, &error);
	g_assert_no_error(error);
	g_socket_listen(socket, &error);
	g_assert_no_error(error);
	soup_server_listen_socket(ts->server, socket, 0, &error);
	g_assert_no_error(error);

	local = g_socket_get_local_address(socket, &error);
	g_assert_no_error(error);
	ts->url = g_strdup_printf("http://127.0.0.1:%u",
				  g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local)));
	return ts;
}

static void
test_server_answer(TestServer *ts, const char *key, guint status, const char *body)
{
	CannedAnswer *answer = g_new0(CannedAnswer, 1);

	answer->status = status;
	answer->body = g_strdup(body);
	g_hash_table_replace(ts->answers, g_strdup(key), answer);
}

static void
test_server_free(TestServer *ts)
{
	/* let the server see its clients hang up before it goes */
	while (g_main_context_iteration(NULL, FALSE))
		;
	soup_server_disconnect(ts->server);
	g_object_unref(ts->server);
	g_hash_table_unref(ts->answers);
	g_free(ts->url);
	g_free(ts->last_method);
	g_free(ts->last_path);
	g_free(ts->last_query);
	g_free(ts->last_body);
	g_free(ts->last_content_type);
	g_free(ts->last_prefer);
	g_ptr_array_unref(ts->log);
	g_free(ts);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(TestServer, test_server_free)

/* an address on 127.0.0.1 where nothing listens: bind port 0, read the port, close */
static char *
unreachable_url(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSocket) socket = NULL;
	g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback(G_SOCKET_FAMILY_IPV4);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new(loopback, 0);
	g_autoptr(GSocketAddress) local = NULL;
	guint16 port;

	socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
			      G_SOCKET_PROTOCOL_TCP, &error);
	g_assert_no_error(error);
	g_socket_bind(socket, address, FALSE, &error);
	g_assert_no_error(error);
	local = g_socket_get_local_address(socket, &error);
	g_assert_no_error(error);
	port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(local));
	g_socket_close(socket, &error);
	g_assert_no_error(error);
	return g_strdup_printf("http://127.0.0.1:%u", port);
}

/* the client, run to completion on the default context */

static void
store_result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **out = user_data;

	*out = g_object_ref(res);
}

static JsonNode *
client_request(StdiolinkClient *client,
	       const char *method,
	       const char *path,
	       JsonNode *body,
	       guint *status,
	       GBytes **raw,
	       GError **error)
{
	GAsyncResult *res = NULL;
	JsonNode *node;

	stdiolink_client_request_async(client, method, path, body, NULL, store_result_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	node = stdiolink_client_request_finish_full(client, res, status, raw, error);
	g_object_unref(res);
	return node;
}

static void
test_client_success_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_autoptr(StdiolinkClient) client = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) node = NULL;
	const char *body = "{ \"b\": 1,  \"a\": [1, 2.5] }";
	guint status = 0;

	test_server_answer(ts, "GET /api/server/status", 200, body);
	client = stdiolink_client_new(ts->url);

	node = client_request(client, "GET", "/api/server/status", NULL, &status, &raw, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(status, ==, 200);
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(node), "b"), ==, 1);

	/* the raw body is byte for byte what the server sent */
	g_assert_cmpmem(g_bytes_get_data(raw, NULL), g_bytes_get_size(raw), body, strlen(body));
	g_assert_cmpstr(ts->last_method, ==, "GET");
}

static void
test_client_no_content_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_autoptr(StdiolinkClient) client = stdiolink_client_new(ts->url);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	guint status = 0;

	test_server_answer(ts, "DELETE /api/projects/p1", 204, NULL);
	node = client_request(client, "DELETE", "/api/projects/p1", NULL, &status, NULL, &error);
	g_assert_no_error(error);
	g_assert_null(node);
	g_assert_cmpuint(status, ==, 204);
}

static void
test_client_request_body_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_autoptr(StdiolinkClient) client = stdiolink_client_new(ts->url);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) body = stdiolink_json_parse("{\"z\": 0.1, \"a\": {\"y\": true}}", -1,
							 NULL);
	g_autoptr(JsonNode) node = NULL;

	test_server_answer(ts, "POST /api/projects/p1/validate", 200, "{\"valid\":true}");
	node = client_request(client, "POST", "/api/projects/p1/validate", body, NULL, NULL,
			      &error);
	g_assert_no_error(error);
	g_assert_nonnull(node);

	/* sent compact, keys sorted, as application/json */
	g_assert_cmpstr(ts->last_method, ==, "POST");
	g_assert_cmpstr(ts->last_body, ==, "{\"a\":{\"y\":true},\"z\":0.1}");
	g_assert_cmpstr(ts->last_content_type, ==, "application/json");
}

/* extra headers go out as given; a plain request sends none of them */
static void
test_client_request_headers_func(void)
{
	const char *const headers[] = {"Prefer", "respond-async", NULL};
	g_autoptr(TestServer) ts = test_server_new();
	g_autoptr(StdiolinkClient) client = stdiolink_client_new(ts->url);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	GAsyncResult *res = NULL;
	guint status = 0;

	test_server_answer(ts, "POST /api/drivers/scan", 202,
			   "{\"jobId\":\"0123456789abcdef\",\"status\":\"queued\"}");
	stdiolink_client_request_with_headers_async(client, "POST", "/api/drivers/scan", headers,
						    NULL, NULL, store_result_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	node = stdiolink_client_request_finish(client, res, &status, &error);
	g_object_unref(res);
	g_assert_no_error(error);
	g_assert_cmpuint(status, ==, 202);
	g_assert_cmpstr(ts->last_prefer, ==, "respond-async");
	g_clear_pointer(&node, json_node_unref);

	node = client_request(client, "POST", "/api/drivers/scan", NULL, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_null(ts->last_prefer);
}

typedef struct {
	guint status;
	const char *body;
	StdiolinkError code;
	const char *message;
} ErrorCase;

static void
test_client_error_body_func(void)
{
	const ErrorCase cases[] = {
		/* code and message from the body */
		{404, "{\"error\":\"project not found\",\"code\":\"not_found\"}",
		 STDIOLINK_ERROR_NOT_FOUND, "project not found"},
		{409, "{\"error\":\"project operation already in progress: p1\","
		      "\"code\":\"project_busy\"}",
		 STDIOLINK_ERROR_PROJECT_BUSY, "project operation already in progress: p1"},
		{409, "{\"error\":\"job running\",\"code\":\"job_conflict\",\"jobId\":\"j1\"}",
		 STDIOLINK_ERROR_JOB_CONFLICT, "job running"},
		{500, "{\"error\":\"exec failed\",\"code\":\"start_failed\"}",
		 STDIOLINK_ERROR_START_FAILED, "exec failed"},
		/* the code wins over the status */
		{400, "{\"error\":\"odd\",\"code\":\"conflict\"}", STDIOLINK_ERROR_CONFLICT, "odd"},
		/* an unknown code is internal */
		{400, "{\"error\":\"odd\",\"code\":\"no_such_code\"}", STDIOLINK_ERROR_INTERNAL,
		 "odd"},
		/* no code (the earlier server): derived from the status */
		{400, "{\"error\":\"request body must be a JSON object\"}",
		 STDIOLINK_ERROR_BAD_REQUEST, "request body must be a JSON object"},
		{404, "{\"error\":\"not found\"}", STDIOLINK_ERROR_NOT_FOUND, "not found"},
		{413, "{\"error\":\"too large\"}", STDIOLINK_ERROR_PAYLOAD_TOO_LARGE, "too large"},
		{409, "{\"error\":\"busy\"}", STDIOLINK_ERROR_CONFLICT, "busy"},
		/* no usable message: the reason phrase */
		{502, "<html>bad gateway</html>", STDIOLINK_ERROR_INTERNAL, "Bad Gateway"},
		{500, NULL, STDIOLINK_ERROR_INTERNAL, "Internal Server Error"},
		{404, "{\"error\":42,\"code\":\"not_found\"}", STDIOLINK_ERROR_NOT_FOUND,
		 "Not Found"},
		{503, "[\"error\"]", STDIOLINK_ERROR_INTERNAL, "Service Unavailable"},
	};
	g_autoptr(TestServer) ts = test_server_new();
	g_autoptr(StdiolinkClient) client = stdiolink_client_new(ts->url);

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(GBytes) raw = NULL;
		g_autoptr(JsonNode) node = NULL;
		guint status = 0;

		test_server_answer(ts, "GET /api/thing", cases[i].status, cases[i].body);
		node = client_request(client, "GET", "/api/thing", NULL, &status, &raw, &error);
		g_assert_null(node);
		g_assert_error(error, STDIOLINK_ERROR, (gint)cases[i].code);
		g_assert_cmpstr(error->message, ==, cases[i].message);
		g_assert_cmpuint(status, ==, cases[i].status);

		/* the error body stays available, e.g. for --json */
		g_assert_nonnull(raw);
		if (cases[i].body != NULL)
			g_assert_cmpuint(g_bytes_get_size(raw), ==, strlen(cases[i].body));
	}
}

static void
test_client_invalid_json_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_autoptr(StdiolinkClient) client = stdiolink_client_new(ts->url);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	test_server_answer(ts, "GET /api/services", 200, "{\"services\": [");
	node = client_request(client, "GET", "/api/services", NULL, NULL, NULL, &error);
	g_assert_null(node);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INVALID_DATA);
	g_assert_true(g_str_has_prefix(error->message, "invalid response from server: "));
}

static void
test_client_unreachable_func(void)
{
	g_autofree char *url = unreachable_url();
	g_autoptr(StdiolinkClient) client = stdiolink_client_new(url);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) raw = NULL;
	g_autoptr(JsonNode) node = NULL;
	guint status = 99;

	node = client_request(client, "GET", "/api/server/status", NULL, &status, &raw, &error);
	g_assert_null(node);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
	g_assert_cmpuint(status, ==, 0);
	g_assert_null(raw);
}

static void
test_client_invalid_url_func(void)
{
	const char *urls[] = {"ftp://127.0.0.1:6200", "127.0.0.1:6200", "http://", "", "http//x"};

	for (guint i = 0; i < G_N_ELEMENTS(urls); i++) {
		g_autoptr(StdiolinkClient) client = stdiolink_client_new(urls[i]);
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = NULL;

		node = client_request(client, "GET", "/api/server/status", NULL, NULL, NULL,
				      &error);
		g_assert_null(node);
		g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
		g_assert_true(g_str_has_prefix(error->message, "invalid URL: "));
	}
}

static void
test_client_base_url_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_autofree char *with_slash = g_strconcat(ts->url, "//", NULL);
	g_autoptr(StdiolinkClient) client = stdiolink_client_new(with_slash);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;

	g_assert_cmpstr(stdiolink_client_get_base_url(client), ==, ts->url);

	test_server_answer(ts, "GET /api/services", 200, "{\"services\":[]}");
	node = client_request(client, "GET", "/api/services", NULL, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpstr(ts->last_path, ==, "/api/services");
}

static void
test_client_escape_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_autoptr(StdiolinkClient) client = stdiolink_client_new(ts->url);
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *plain = stdiolink_client_escape_segment("Az09-_.~");
	g_autofree char *odd = stdiolink_client_escape_segment("a b/c?d%e+f#g&h=\xc3\xa9");
	g_autofree char *path = g_strdup_printf("/api/projects/%s", odd);

	g_assert_cmpstr(plain, ==, "Az09-_.~");
	g_assert_cmpstr(odd, ==, "a%20b%2Fc%3Fd%25e%2Bf%23g%26h%3D%C3%A9");

	/* the id reaches the server whole: no query, no fragment, `%` kept (the test server
	 * hands out the decoded path) */
	node = client_request(client, "GET", path, NULL, NULL, NULL, &error);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND);
	g_assert_cmpstr(ts->last_path, ==, "/api/projects/a b/c?d%e+f#g&h=\xc3\xa9");
	g_assert_null(ts->last_query);
}

static void
assert_sse_event(StdiolinkSseParser *parser,
		 const char *line,
		 const char *expected_type,
		 const char *expected_data)
{
	g_autofree char *type = NULL;
	g_autofree char *data = NULL;
	gboolean complete = stdiolink_sse_parser_push_line(parser, line, &type, &data);

	if (expected_type == NULL) {
		g_assert_false(complete);
		g_assert_null(type);
		g_assert_null(data);
		return;
	}
	g_assert_true(complete);
	g_assert_cmpstr(type, ==, expected_type);
	g_assert_cmpstr(data, ==, expected_data);
}

static void
test_client_sse_parser_func(void)
{
	g_autoptr(StdiolinkSseParser) parser = stdiolink_sse_parser_new();

	/* the daemon's shape: event, data, blank line; heartbeats are comments */
	assert_sse_event(parser, ": heartbeat", NULL, NULL);
	assert_sse_event(parser, "", NULL, NULL);
	assert_sse_event(parser, "event: instance.started", NULL, NULL);
	assert_sse_event(parser, "data: {\"pid\":1}", NULL, NULL);
	assert_sse_event(parser, "", "instance.started", "{\"pid\":1}");

	/* CRLF, no space after the colon, several data lines, id and retry ignored */
	assert_sse_event(parser, "event:job.progress\r", NULL, NULL);
	assert_sse_event(parser, "id: 7\r", NULL, NULL);
	assert_sse_event(parser, "retry: 1000\r", NULL, NULL);
	assert_sse_event(parser, "data:a\r", NULL, NULL);
	assert_sse_event(parser, "data:  b: c\r", NULL, NULL);
	assert_sse_event(parser, "data\r", NULL, NULL);
	assert_sse_event(parser, "\r", "job.progress", "a\n b: c\n");

	/* no event name: "message"; the name does not carry over to the next event */
	assert_sse_event(parser, "data: x", NULL, NULL);
	assert_sse_event(parser, "", "message", "x");

	/* an event without data is not dispatched, and is forgotten */
	assert_sse_event(parser, "event: lonely", NULL, NULL);
	assert_sse_event(parser, "", NULL, NULL);
	assert_sse_event(parser, "data: y", NULL, NULL);
	assert_sse_event(parser, "", "message", "y");

	/* unknown fields are ignored */
	assert_sse_event(parser, "colour: red", NULL, NULL);
	assert_sse_event(parser, "data: z", NULL, NULL);
	assert_sse_event(parser, "", "message", "z");
}

static GInputStream *
client_open_stream(StdiolinkClient *client, const char *path, guint *status, GError **error)
{
	GAsyncResult *res = NULL;
	GInputStream *stream;

	stdiolink_client_open_stream_async(client, path, "text/event-stream", NULL,
					   store_result_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	stream = stdiolink_client_open_stream_finish(client, res, status, error);
	g_object_unref(res);
	return stream;
}

static char *
read_stream(GInputStream *stream)
{
	g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
	g_autoptr(GError) error = NULL;
	GAsyncResult *res = NULL;

	g_output_stream_splice_async(out, stream, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
				     G_PRIORITY_DEFAULT, NULL, store_result_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_output_stream_splice_finish(out, res, &error);
	g_object_unref(res);
	g_assert_no_error(error);
	return g_strndup(g_memory_output_stream_get_data(G_MEMORY_OUTPUT_STREAM(out)),
			 g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(out)));
}

static void
test_client_stream_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_autoptr(StdiolinkClient) client = stdiolink_client_new(ts->url);
	g_autofree char *url = unreachable_url();
	g_autoptr(StdiolinkClient) nowhere = stdiolink_client_new(url);
	const char *events = "event: a\ndata: {}\n\n";
	guint status = 0;

	/* the body, as it comes */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GInputStream) stream = NULL;
		g_autofree char *text = NULL;

		test_server_answer(ts, "GET /api/events/stream", 200, events);
		stream = client_open_stream(client, "/api/events/stream?filter=a", &status,
					    &error);
		g_assert_no_error(error);
		g_assert_cmpuint(status, ==, 200);
		text = read_stream(stream);
		g_assert_cmpstr(text, ==, events);
		g_assert_cmpstr(ts->last_query, ==, "filter=a");
	}

	/* an error status is decoded as for any request */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GInputStream) stream = NULL;

		test_server_answer(ts, "GET /api/events/stream", 403,
				   "{\"error\":\"origin not allowed\",\"code\":\"forbidden\"}");
		stream = client_open_stream(client, "/api/events/stream", &status, &error);
		g_assert_null(stream);
		g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_FORBIDDEN);
		g_assert_cmpstr(error->message, ==, "origin not allowed");
		g_assert_cmpuint(status, ==, 403);
	}

	/* nobody listening */
	{
		g_autoptr(GError) error = NULL;
		g_autoptr(GInputStream) stream = NULL;

		stream = client_open_stream(nowhere, "/api/events/stream", &status, &error);
		g_assert_null(stream);
		g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
		g_assert_cmpuint(status, ==, 0);
	}

	/* a path that is no URL */
	{
		g_autoptr(StdiolinkClient) bad = stdiolink_client_new("ftp://x");
		g_autoptr(GError) error = NULL;
		g_autoptr(GInputStream) stream = NULL;

		stream = client_open_stream(bad, "/api/events/stream", &status, &error);
		g_assert_null(stream);
		g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST);
	}
}

/* the console: widths, layout, colour policy */

static void
test_console_width_func(void)
{
	g_assert_cmpuint(slc_console_display_width(""), ==, 0);
	g_assert_cmpuint(slc_console_display_width("demo"), ==, 4);
	g_assert_cmpuint(slc_console_display_width("\xe6\x97\xa5\xe6\x9c\xac"), ==, 4);
	g_assert_cmpuint(slc_console_display_width("e\xcc\x81"), ==, 1);
	g_assert_cmpuint(slc_console_display_width("\xc3\xa9t\xc3\xa9"), ==, 3);
}

static void
test_console_sanitize_func(void)
{
	g_autofree char *clean = slc_console_sanitize("a\nb\tc\033[31md\x7f\xc2\x9b" "e");
	g_autofree char *empty = slc_console_sanitize(NULL);

	g_assert_cmpstr(clean, ==, "a b c?[31md??e");
	g_assert_cmpstr(empty, ==, "");
}

static void
test_console_table_func(void)
{
	g_autoptr(SlcTable) table = slc_table_new(3);
	g_autofree char *plain = NULL;
	g_autofree char *coloured = NULL;

	slc_table_add_header(table, "ID");
	slc_table_add_header(table, "NAME");
	slc_table_add_header(table, "STATUS");
	slc_table_add_row(table, "demo", "\xe6\x97\xa5\xe6\x9c\xac", "running", NULL);
	slc_table_add_cell(table, "a-much-longer-id", SLC_STYLE_NONE);
	slc_table_add_cell(table, "x\ny", SLC_STYLE_NONE);
	slc_table_add_cell(table, "invalid", SLC_STYLE_BAD);
	slc_table_add_row(table, "short", NULL);
	g_assert_cmpuint(slc_table_get_n_rows(table), ==, 3);

	/* columns as wide as their widest cell plus two; no trailing blanks */
	plain = slc_table_render(table, FALSE);
	g_assert_cmpstr(plain, ==,
			"ID                NAME  STATUS\n"
			"demo              \xe6\x97\xa5\xe6\x9c\xac  running\n"
			"a-much-longer-id  x y   invalid\n"
			"short\n");

	/* colour wraps the text, the padding stays outside */
	coloured = slc_table_render(table, TRUE);
	g_assert_true(strstr(coloured, "\033[1mID\033[0m                ") != NULL);
	g_assert_true(strstr(coloured, "\033[31minvalid\033[0m\n") != NULL);
	g_assert_null(strstr(plain, "\033"));
}

static void
test_console_progress_bar_func(void)
{
	g_autofree char *empty = NULL;
	g_autofree char *third = NULL;
	g_autofree char *full = NULL;
	g_autofree char *over = NULL;
	g_autofree char *coloured = NULL;
	g_autofree char *plain = NULL;
	guint width = 0;

	/* a total not known yet: nothing done */
	empty = slc_console_progress_bar(0, 0, FALSE, &width);
	g_assert_cmpstr(empty, ==, "[..............................] 0/?");
	g_assert_cmpuint(width, ==, strlen(empty));

	third = slc_console_progress_bar(1, 3, FALSE, &width);
	g_assert_cmpstr(third, ==, "[##########....................] 1/3");
	g_assert_cmpuint(width, ==, strlen(third));

	full = slc_console_progress_bar(50, 50, FALSE, NULL);
	g_assert_cmpstr(full, ==, "[##############################] 50/50");

	/* more done than the total says: full, the numbers as given */
	over = slc_console_progress_bar(4, 3, FALSE, NULL);
	g_assert_cmpstr(over, ==, "[##############################] 4/3");

	/* colour wraps the done part; the width counts only what shows */
	coloured = slc_console_progress_bar(1, 3, TRUE, &width);
	plain = slc_console_progress_bar(1, 3, FALSE, NULL);
	g_assert_cmpstr(coloured, ==, "[\033[32m##########\033[0m....................] 1/3");
	g_assert_cmpuint(width, ==, strlen(plain));
}

static void
test_console_colour_func(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	int null_fd = open("/dev/null", O_RDONLY);
	int tty;

	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
		g_test_skip("no pseudo-terminal available");
		close(null_fd);
		return;
	}
	tty = open(ptsname(master), O_RDWR | O_NOCTTY);
	g_assert_cmpint(tty, >=, 0);

	g_setenv("TERM", "xterm", TRUE);
	g_unsetenv("NO_COLOR");
	g_assert_true(slc_console_want_colour(tty));
	g_assert_false(slc_console_want_colour(null_fd));

	/* NO_COLOR counts when non-empty (no-color.org) */
	g_setenv("NO_COLOR", "1", TRUE);
	g_assert_false(slc_console_want_colour(tty));
	g_setenv("NO_COLOR", "", TRUE);
	g_assert_true(slc_console_want_colour(tty));
	g_unsetenv("NO_COLOR");

	g_setenv("TERM", "dumb", TRUE);
	g_assert_false(slc_console_want_colour(tty));

	close(tty);
	close(master);
	close(null_fd);
}

/* stdiolinkctl as a process */

typedef struct {
	int status;
	char *out;
	char *err;
} CtlResult;

static void
ctl_result_clear(CtlResult *result)
{
	g_clear_pointer(&result->out, g_free);
	g_clear_pointer(&result->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CtlResult, ctl_result_clear)

/*
 * Runs stdiolinkctl with @args. @env holds "NAME=VALUE" to set or "NAME" to unset; by
 * default STDIOLINK_URL is unset and NO_COLOR set. The main context keeps running while it
 * waits, so an in-process test server can answer.
 */
static void
run_ctl_env(CtlResult *result, const char *const *env, const char *const *args)
{
	const char *program = g_getenv("STDIOLINKCTL");
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;
	GAsyncResult *res = NULL;

	g_assert_nonnull(program);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE |
					     G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_subprocess_launcher_unsetenv(launcher, "STDIOLINK_URL");
	g_subprocess_launcher_setenv(launcher, "NO_COLOR", "1", TRUE);
	for (guint i = 0; env != NULL && env[i] != NULL; i++) {
		g_auto(GStrv) pair = g_strsplit(env[i], "=", 2);

		if (pair[1] != NULL)
			g_subprocess_launcher_setenv(launcher, pair[0], pair[1], TRUE);
		else
			g_subprocess_launcher_unsetenv(launcher, pair[0]);
	}

	g_ptr_array_add(argv, (gpointer)program);
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
	g_assert_no_error(error);

	g_subprocess_communicate_utf8_async(proc, NULL, NULL, store_result_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_subprocess_communicate_utf8_finish(proc, res, &result->out, &result->err, &error);
	g_object_unref(res);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(proc));
	result->status = g_subprocess_get_exit_status(proc);
}

#define RUN_CTL(result, ...) run_ctl_env((result), NULL, (const char *const[]){__VA_ARGS__, NULL})

static void
assert_usage_error(const char *url, const char *const *args)
{
	g_autofree char *env_url = g_strdup_printf("STDIOLINK_URL=%s", url);
	const char *env[] = {env_url, NULL};
	g_auto(CtlResult) result = {0};
	g_autofree char *joined = g_strjoinv(" ", (char **)args);

	/* a usage error is found before the daemon is asked: an unreachable one would give 3 */
	run_ctl_env(&result, env, args);
	if (result.status != 2)
		g_test_message("stdiolinkctl %s: exit %d, stderr %s", joined, result.status,
			       result.err);
	g_assert_cmpint(result.status, ==, 2);
	g_assert_cmpstr(result.out, ==, "");
	g_assert_true(g_str_has_prefix(result.err, "stdiolinkctl: ") ||
		      g_str_has_prefix(result.err, "Usage:"));
	g_assert_nonnull(strstr(result.err, "stdiolinkctl: "));
}

static void
test_cli_usage_func(void)
{
	g_autofree char *url = unreachable_url();
	const char *const no_args[] = {NULL};
	const char *const unknown_noun[] = {"bogus", NULL};
	const char *const unknown_noun_verb[] = {"bogus", "list", NULL};
	const char *const missing_verb[] = {"projects", NULL};
	const char *const unknown_verb[] = {"projects", "bogus", NULL};
	const char *const missing_id[] = {"projects", "show", NULL};
	const char *const missing_id2[] = {"instances", "terminate", NULL};
	const char *const extra_arg[] = {"services", "show", "a", "b", NULL};
	const char *const extra_status[] = {"status", "now", NULL};
	const char *const bad_option[] = {"projects", "list", "--bogus", NULL};
	const char *const bad_option2[] = {"drivers", "list", "--project", "x", NULL};
	const char *const bad_page[] = {"projects", "list", "--page", "abc", NULL};
	const char *const negative_page[] = {"projects", "list", "--page", "-1", NULL};
	const char *const zero_page[] = {"projects", "list", "--page=0", NULL};
	const char *const missing_value[] = {"instances", "list", "--project", NULL};
	const char *const url_no_value[] = {"status", "--url", NULL};
	const char *const url_bad_scheme[] = {"--url", "ftp://127.0.0.1:6200", "status", NULL};
	const char *const url_garbage[] = {"--url=not a url", "status", NULL};
	const char *const config_not_object[] = {"projects", "validate", "p1", "--config", "[1]",
						 NULL};
	const char *const config_bad_json[] = {"projects", "validate", "p1", "--config", "{",
					       NULL};
	const char *const config_both[] = {"projects", "validate", "p1", "--config", "{}",
					   "--config-file", "/dev/null", NULL};
	const char *const config_missing_file[] = {"projects", "validate", "p1", "--config-file",
						   "/nonexistent/stdiolink/config.json", NULL};
	const char *const *const cases[] = {
		no_args, unknown_noun, unknown_noun_verb, missing_verb, unknown_verb, missing_id,
		missing_id2, extra_arg, extra_status, bad_option, bad_option2, bad_page,
		negative_page, zero_page, missing_value, url_no_value, url_bad_scheme, url_garbage,
		config_not_object, config_bad_json, config_both, config_missing_file,
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_usage_error(url, cases[i]);
}

/* the commands that change projects, read logs and watch events find these mistakes
 * before they ask the daemon */
static void
test_cli_usage_edit_func(void)
{
	g_autofree char *url = unreachable_url();
	const char *const *const cases[] = {
		/* create needs --id, --name and --service, or --file */
		(const char *const[]){"projects", "create", NULL},
		(const char *const[]){"projects", "create", "--id", "p", "--name", "P", NULL},
		(const char *const[]){"projects", "create", "--name", "P", "--service", "s", NULL},
		(const char *const[]){"projects", "create", "p1", "--id", "p1", NULL},
		(const char *const[]){"projects", "create", "--file",
				      "/nonexistent/stdiolink/p.json", NULL},
		(const char *const[]){"projects", "create", "--file", "/dev/null", NULL},
		/* schedules */
		(const char *const[]){"projects", "create", "--id", "p", "--name", "P",
				      "--service", "s", "--schedule", "hourly", NULL},
		(const char *const[]){"projects", "create", "--id", "p", "--name", "P",
				      "--service", "s", "--interval-ms", "1000", NULL},
		(const char *const[]){"projects", "create", "--id", "p", "--name", "P",
				      "--service", "s", "--schedule", "daemon", "--interval-ms",
				      "1000", NULL},
		(const char *const[]){"projects", "create", "--id", "p", "--name", "P",
				      "--service", "s", "--schedule", "fixed_rate",
				      "--max-failures", "3", NULL},
		(const char *const[]){"projects", "create", "--id", "p", "--name", "P",
				      "--service", "s", "--interval-ms", "soon", NULL},
		(const char *const[]){"projects", "update", "p", "--schedule", "weekly", NULL},
		/* configuration */
		(const char *const[]){"projects", "create", "--id", "p", "--name", "P",
				      "--service", "s", "--set", "port", NULL},
		(const char *const[]){"projects", "create", "--id", "p", "--name", "P",
				      "--service", "s", "--set", "=1", NULL},
		(const char *const[]){"projects", "create", "--id", "p", "--name", "P",
				      "--service", "s", "--config", "[]", NULL},
		(const char *const[]){"projects", "update", "p", "--config", "{}",
				      "--config-file", "/dev/null", NULL},
		(const char *const[]){"projects", "update", "p", "--config", "1", NULL},
		(const char *const[]){"projects", "update", "p", "--set", "novalue", NULL},
		(const char *const[]){"projects", "update", NULL},
		(const char *const[]){"projects", "update", "p", "--id", "q", NULL},
		/* the others take one id */
		(const char *const[]){"projects", "delete", NULL},
		(const char *const[]){"projects", "enable", NULL},
		(const char *const[]){"projects", "disable", "a", "b", NULL},
		(const char *const[]){"projects", "reload", NULL},
		(const char *const[]){"projects", "runtime", "--page", "2", NULL},
		/* logs */
		(const char *const[]){"projects", "logs", NULL},
		(const char *const[]){"projects", "logs", "p", "-n", "0", NULL},
		(const char *const[]){"projects", "logs", "p", "-n", "5001", NULL},
		(const char *const[]){"projects", "logs", "p", "--lines=-3", NULL},
		(const char *const[]){"projects", "logs", "p", "-n", "many", NULL},
		(const char *const[]){"instances", "logs", "i", "-n", "0", NULL},
		(const char *const[]){"instances", "logs", "i", "-f", NULL},
		(const char *const[]){"instances", "tree", NULL},
		(const char *const[]){"instances", "resources", "a", "b", NULL},
		/* events */
		(const char *const[]){"events", "now", NULL},
		(const char *const[]){"events", "--type", NULL},
		(const char *const[]){"events", "--follow", NULL},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++)
		assert_usage_error(url, cases[i]);
}

static void
test_cli_unknown_noun_message_func(void)
{
	g_auto(CtlResult) result = {0};

	RUN_CTL(&result, "frobnicate");
	g_assert_cmpint(result.status, ==, 2);
	g_assert_nonnull(strstr(result.err, "stdiolinkctl: unknown command “frobnicate”"));

	ctl_result_clear(&result);
	RUN_CTL(&result, "projects", "frob");
	g_assert_cmpint(result.status, ==, 2);
	g_assert_nonnull(strstr(result.err, "“frob”"));
	g_assert_nonnull(strstr(result.err, "list, show, validate, start, stop"));
}

static void
test_cli_help_func(void)
{
	const char *nouns[] = {"status", "services", "projects", "instances", "drivers",
			       "events"};
	const char *commands[] = {"services list", "services show", "projects list",
				  "projects show", "projects validate", "projects start",
				  "projects stop", "projects create", "projects update ID",
				  "projects delete ID", "projects enable ID", "projects disable ID",
				  "projects reload ID", "projects runtime [ID…]",
				  "projects logs ID",
				  "instances list", "instances show", "instances logs ID",
				  "instances tree ID", "instances resources ID",
				  "instances terminate", "drivers list", "drivers show",
				  "events [OPTIONS]"};
	const char *flags[] = {"--help", "-h"};

	for (guint f = 0; f < G_N_ELEMENTS(flags); f++) {
		g_auto(CtlResult) result = {0};

		RUN_CTL(&result, flags[f]);
		g_assert_cmpint(result.status, ==, 0);
		g_assert_cmpstr(result.err, ==, "");
		for (guint i = 0; i < G_N_ELEMENTS(nouns); i++)
			g_assert_nonnull(strstr(result.out, nouns[i]));
		for (guint i = 0; i < G_N_ELEMENTS(commands); i++)
			g_assert_nonnull(strstr(result.out, commands[i]));
		g_assert_nonnull(strstr(result.out, "--url"));
		g_assert_nonnull(strstr(result.out, "--json"));
		g_assert_nonnull(strstr(result.out, "STDIOLINK_URL"));
		g_assert_nonnull(strstr(result.out, "Examples:"));
		g_assert_nonnull(strstr(result.out, "Exit status:"));
	}
}

static void
test_cli_help_noun_func(void)
{
	const char *nouns[] = {"status", "services", "projects", "instances", "drivers",
			       "events"};

	for (guint i = 0; i < G_N_ELEMENTS(nouns); i++) {
		g_auto(CtlResult) result = {0};
		g_autofree char *example = g_strdup_printf("stdiolinkctl %s", nouns[i]);

		RUN_CTL(&result, nouns[i], "--help");
		g_assert_cmpint(result.status, ==, 0);
		g_assert_cmpstr(result.err, ==, "");
		g_assert_nonnull(strstr(result.out, "Examples:"));
		g_assert_nonnull(strstr(result.out, example));
	}

	/* the group's help lists its commands and their options; an option that several
	 * commands take is listed once, with their names */
	{
		g_auto(CtlResult) result = {0};

		RUN_CTL(&result, "projects", "--help");
		g_assert_cmpint(result.status, ==, 0);
		g_assert_nonnull(strstr(result.out, "projects validate ID"));
		g_assert_nonnull(strstr(result.out, "--config-file FILE"));
		g_assert_nonnull(strstr(result.out, "projects stop ID"));
		g_assert_nonnull(strstr(result.out, "(create, update) The project's display name"));
		g_assert_nonnull(strstr(result.out, "-n, --lines N"));
		g_assert_nonnull(strstr(result.out, "-f, --follow"));
		g_assert_null(strstr(result.out, "drivers list"));
	}

	/* a command's help: its usage, its options, its examples */
	{
		g_auto(CtlResult) result = {0};

		RUN_CTL(&result, "projects", "validate", "--help");
		g_assert_cmpint(result.status, ==, 0);
		g_assert_cmpstr(result.err, ==, "");
		g_assert_nonnull(strstr(result.out, "projects validate ID [OPTIONS]"));
		g_assert_nonnull(strstr(result.out, "--config-file FILE"));
		g_assert_nonnull(strstr(result.out, "stdiolinkctl projects validate radar1"));
		g_assert_null(strstr(result.out, "projects stop ID"));
		g_assert_null(strstr(result.out, "(validate)"));
	}
	{
		g_auto(CtlResult) result = {0};

		RUN_CTL(&result, "projects", "create", "--help");
		g_assert_cmpint(result.status, ==, 0);
		g_assert_nonnull(strstr(result.out, "--id ID"));
		g_assert_nonnull(strstr(result.out, "--set KEY=VALUE"));
		g_assert_nonnull(strstr(result.out, "--disabled "));
		g_assert_null(strstr(result.out, "--lines"));
	}
	{
		g_auto(CtlResult) result = {0};

		RUN_CTL(&result, "projects", "bogus", "--help");
		g_assert_cmpint(result.status, ==, 2);
		g_assert_cmpstr(result.out, ==, "");
		g_assert_nonnull(strstr(result.err, "unknown command “bogus” for “projects”"));
	}
	{
		g_auto(CtlResult) result = {0};

		RUN_CTL(&result, "bogus", "--help");
		g_assert_cmpint(result.status, ==, 2);
		g_assert_cmpstr(result.out, ==, "");
	}
}

static void
test_cli_version_func(void)
{
	g_auto(CtlResult) result = {0};

	RUN_CTL(&result, "--version");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "stdiolinkctl " PACKAGE_VERSION "\n");
}

static void
assert_unreachable(CtlResult *result, const char *url)
{
	g_assert_cmpint(result->status, ==, 3);
	g_assert_cmpstr(result->out, ==, "");
	g_assert_true(g_str_has_prefix(result->err, "stdiolinkctl: "));
	g_assert_nonnull(strstr(result->err, url));
	g_assert_nonnull(strstr(result->err, "stdiolinkd"));
}

static void
test_cli_unreachable_func(void)
{
	g_autofree char *url = unreachable_url();
	const char *const status[] = {"--url", url, "status", NULL};
	const char *const status_json[] = {"--json", "--url", url, "status", NULL};
	const char *const projects[] = {"projects", "list", "--json", "--url", url, NULL};
	const char *const start[] = {"--url", url, "projects", "start", "p1", NULL};
	const char *const validate[] = {"--url", url, "--json", "projects", "validate", "p1",
					NULL};
	const char *const instances[] = {"--url", url, "instances", "list", "--project", "p",
					 NULL};
	const char *const *const cases[] = {status, status_json, projects, start, validate,
					    instances};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_auto(CtlResult) result = {0};

		run_ctl_env(&result, NULL, cases[i]);
		assert_unreachable(&result, url);
	}
}

static void
test_cli_unreachable_env_func(void)
{
	g_autofree char *url = unreachable_url();
	g_autofree char *env_url = g_strdup_printf("STDIOLINK_URL=%s", url);
	const char *env[] = {env_url, NULL};
	const char *bad_env[] = {"STDIOLINK_URL=ftp://nowhere", NULL};
	g_auto(CtlResult) result = {0};

	/* $STDIOLINK_URL is used without --url */
	run_ctl_env(&result, env, (const char *const[]){"--json", "drivers", "list", NULL});
	assert_unreachable(&result, url);

	/* --url wins over it */
	ctl_result_clear(&result);
	run_ctl_env(&result, bad_env, (const char *const[]){"--url", url, "status", NULL});
	assert_unreachable(&result, url);

	/* and the environment's value is checked like --url */
	ctl_result_clear(&result);
	run_ctl_env(&result, bad_env, (const char *const[]){"status", NULL});
	g_assert_cmpint(result.status, ==, 2);
	g_assert_nonnull(strstr(result.err, "ftp://nowhere"));
}

static void
test_cli_default_url_func(void)
{
	g_auto(CtlResult) result = {0};

	/* without --url and STDIOLINK_URL the message names the default address; a daemon
	 * might listen there on this machine, so only the failure case is checked */
	RUN_CTL(&result, "status");
	if (result.status != 3) {
		g_test_skip("something listens on 127.0.0.1:6200");
		return;
	}
	assert_unreachable(&result, "http://127.0.0.1:6200");
}

static void
test_cli_json_verbatim_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	const char *body = "{ \"projects\": [ ],\n \"total\": 0, \"page\": 1,  \"pageSize\": 100 }";
	g_auto(CtlResult) result = {0};
	g_autofree char *expected = g_strconcat(body, "\n", NULL);

	test_server_answer(ts, "GET /api/projects", 200, body);
	RUN_CTL(&result, "--url", ts->url, "--json", "projects", "list");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, expected);
	g_assert_cmpstr(result.err, ==, "");
	g_assert_cmpstr(ts->last_query, ==, "page=1&pageSize=100");

	/* --page, and the option after the verb */
	ctl_result_clear(&result);
	RUN_CTL(&result, "projects", "list", "--page", "3", "--json", "--url", ts->url);
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, expected);
	g_assert_cmpstr(ts->last_query, ==, "page=3&pageSize=100");
}

static void
test_cli_services_table_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "GET /api/services", 200,
			   "{\"services\":["
			   "{\"id\":\"demo\",\"name\":\"Demo service\",\"version\":\"1.0.0\","
			   "\"serviceDir\":\"/data/services/demo\","
			   "\"serviceDirDisplay\":\"services/demo\",\"hasSchema\":true,"
			   "\"projectCount\":2},"
			   "{\"id\":\"\xe6\x97\xa5\xe6\x9c\xac\","
			   "\"name\":\"\xe3\x83\xac\xe3\x83\xbc\xe3\x83\x80\xe3\x83\xbc\","
			   "\"version\":\"10.2\","
			   "\"serviceDir\":\"/opt/x\",\"serviceDirDisplay\":\"--\","
			   "\"hasSchema\":true,\"projectCount\":0}]}");
	RUN_CTL(&result, "--url", ts->url, "services", "list");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.err, ==, "");
	g_assert_cmpstr(result.out, ==,
			"ID    NAME          VERSION  PROJECTS  DIRECTORY\n"
			"demo  Demo service  1.0.0    2         services/demo\n"
			"\xe6\x97\xa5\xe6\x9c\xac  \xe3\x83\xac\xe3\x83\xbc\xe3\x83\x80\xe3\x83\xbc"
			"      10.2     0         /opt/x\n");
	g_assert_cmpstr(ts->last_path, ==, "/api/services");

	/* an empty list says so */
	test_server_answer(ts, "GET /api/services", 200, "{\"services\":[]}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "services", "list");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "No services are loaded.\n");
}

static void
test_cli_status_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "GET /api/server/status", 200,
			   "{\"status\":\"ok\",\"version\":\"0.1.0\",\"uptimeMs\":3661000,"
			   "\"startedAt\":\"2024-05-01T10:00:00Z\",\"host\":\"127.0.0.1\","
			   "\"port\":6200,\"dataRoot\":\"/srv/stdiolink\",\"serviceProgram\":\"\","
			   "\"counts\":{\"services\":3,\"projects\":{\"total\":5,\"valid\":4,"
			   "\"invalid\":1,\"enabled\":2,\"disabled\":3},"
			   "\"instances\":{\"total\":1,\"running\":1},\"drivers\":7},"
			   "\"system\":{\"platform\":\"debian x86_64\",\"cpuCores\":8}}");
	RUN_CTL(&result, "--url", ts->url, "status");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_nonnull(strstr(result.out, "Status:           ok\n"));
	g_assert_nonnull(strstr(result.out, "Uptime:           1h 1m 1s\n"));
	g_assert_nonnull(strstr(result.out, "Listening on:     127.0.0.1:6200\n"));
	g_assert_nonnull(strstr(result.out, "Service program:  none\n"));
	g_assert_nonnull(strstr(result.out, "Projects:         5 (4 valid, 1 invalid, "
					    "2 enabled, 3 disabled)\n"));
	g_assert_nonnull(strstr(result.out, "CPU cores:        8\n"));
}

static void
test_cli_http_error_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	const char *body = "{\"error\":\"project not found\",\"code\":\"not_found\"}";
	g_auto(CtlResult) result = {0};
	g_autofree char *expected = g_strconcat(body, "\n", NULL);

	test_server_answer(ts, "GET /api/projects/nope", 404, body);
	RUN_CTL(&result, "--url", ts->url, "projects", "show", "nope");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.out, ==, "");
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: project not found\n");

	/* with --json the error object is the API's answer */
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "projects", "show", "nope");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.out, ==, expected);
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: project not found\n");

	/* a body that is not JSON never reaches stdout */
	test_server_answer(ts, "POST /api/instances/i1/terminate", 502, "<html>proxy</html>");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "instances", "terminate", "i1");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.out, ==, "");
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: Bad Gateway\n");
}

static void
test_cli_escape_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "GET /api/instances", 200, "{\"instances\":[]}");
	RUN_CTL(&result, "--url", ts->url, "instances", "list", "--project", "a b&c");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "No instances are running.\n");
	g_assert_cmpstr(ts->last_query, ==, "projectId=a%20b%26c");

	/* ids are one path segment; `--` lets an id start with a dash */
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "drivers", "show", "--", "-x/y");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(ts->last_path, ==, "/api/drivers/-x/y");
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: not found\n");
}

static void
test_cli_validate_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};
	g_autofree char *dir = g_dir_make_tmp("stdiolink-cli-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "config.json", NULL);
	guint n_requests;

	/* an invalid answer exits with 1 and gives the reason */
	test_server_answer(ts, "POST /api/projects/p1/validate", 200,
			   "{\"valid\":false,\"error\":\"port: required field missing\"}");
	RUN_CTL(&result, "--url", ts->url, "projects", "validate", "p1", "--config",
		"{\"b\": 2, \"a\": 1}");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.out, ==, "");
	g_assert_nonnull(strstr(result.err, "port: required field missing"));
	g_assert_cmpstr(ts->last_body, ==, "{\"config\":{\"a\":1,\"b\":2}}");
	g_assert_cmpstr(ts->last_content_type, ==, "application/json");

	/* from a file */
	g_assert_true(g_file_set_contents(file, "{\"port\": 80}", -1, NULL));
	test_server_answer(ts, "POST /api/projects/p1/validate", 200, "{\"valid\":true}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "validate", "p1", "--config-file", file);
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "The configuration of project “p1” is valid.\n");
	g_assert_cmpstr(ts->last_body, ==, "{\"config\":{\"port\":80}}");

	/* without either: the stored configuration, fetched first */
	test_server_answer(ts, "GET /api/projects/p1", 200,
			   "{\"id\":\"p1\",\"config\":{\"x\":true},\"valid\":true}");
	n_requests = ts->n_requests;
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "projects", "validate", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "{\"valid\":true}\n");
	g_assert_cmpuint(ts->n_requests, ==, n_requests + 2);
	g_assert_cmpstr(ts->last_body, ==, "{\"config\":{\"x\":true}}");

	g_unlink(file);
	g_rmdir(dir);
}

static void
test_cli_start_stop_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "POST /api/projects/p1/start", 202,
			   "{\"started\":true,\"instanceId\":\"inst_0001\","
			   "\"status\":\"starting\"}");
	RUN_CTL(&result, "--url", ts->url, "projects", "start", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "Started project “p1”: instance inst_0001 (starting).\n");
	g_assert_cmpstr(ts->last_method, ==, "POST");

	test_server_answer(ts, "POST /api/projects/p1/start", 200, "{\"noop\":true}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "start", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "Project “p1” is already running; nothing to do.\n");

	test_server_answer(ts, "POST /api/projects/p1/start", 409,
			   "{\"error\":\"already running\",\"code\":\"conflict\"}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "start", "p1");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: already running\n");

	test_server_answer(ts, "POST /api/projects/p1/stop", 200, "{\"stopped\":true}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "projects", "stop", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "{\"stopped\":true}\n");
	g_assert_cmpstr(ts->last_path, ==, "/api/projects/p1/stop");
}

static void
test_cli_project_show_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "GET /api/projects/p1", 200,
			   "{\"id\":\"p1\",\"name\":\"Radar \\u001b[31m1\",\"serviceId\":\"demo\","
			   "\"enabled\":true,\"valid\":true,\"status\":\"running\","
			   "\"schedule\":{\"type\":\"fixed_rate\",\"intervalMs\":5000,"
			   "\"maxConcurrent\":1,\"runTimeoutMs\":0},\"config\":{\"port\":80},"
			   "\"instanceCount\":1,\"instances\":[{\"id\":\"inst_0001\","
			   "\"projectId\":\"p1\",\"serviceId\":\"demo\",\"pid\":4242,"
			   "\"startedAt\":\"2024-05-01T10:00:00Z\",\"status\":\"running\"}]}");
	RUN_CTL(&result, "--url", ts->url, "projects", "show", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==,
			"ID:             p1\n"
			"Name:           Radar ?[31m1\n"
			"Service:        demo\n"
			"Status:         running\n"
			"Enabled:        yes\n"
			"Valid:          yes\n"
			"Schedule:       fixed_rate (intervalMs=5000, maxConcurrent=1, "
			"runTimeoutMs=0)\n"
			"Instances:      1\n"
			"Configuration:  {\"port\":80}\n"
			"\n"
			"Instances:\n"
			"ID         PROJECT  SERVICE  PID   STATUS   STARTED\n"
			"inst_0001  p1       demo     4242  running  2024-05-01T10:00:00Z\n");
}

static void
test_cli_projects_list_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "GET /api/projects", 200,
			   "{\"projects\":[{\"id\":\"p1\",\"name\":\"One\","
			   "\"serviceId\":\"demo\",\"enabled\":false,\"valid\":false,"
			   "\"schedule\":{\"type\":\"manual\",\"runTimeoutMs\":0},"
			   "\"config\":{},\"instanceCount\":0,\"status\":\"invalid\","
			   "\"error\":\"service not found\"}],"
			   "\"total\":101,\"page\":1,\"pageSize\":100}");
	RUN_CTL(&result, "--url", ts->url, "projects", "list");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==,
			"ID  NAME  SERVICE  STATUS   ENABLED  SCHEDULE  INSTANCES\n"
			"p1  One   demo     invalid  no       manual    0\n");

	/* more pages: a hint, on stderr only */
	g_assert_cmpstr(result.err, ==, "Showing projects 1\xe2\x80\x93" "1 of 101; "
			"use \xe2\x80\x9c--page 2\xe2\x80\x9d for more.\n");
}

static void
test_cli_service_show_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "GET /api/services/demo", 200,
			   "{\"id\":\"demo\",\"name\":\"Demo\",\"version\":\"1.0\","
			   "\"serviceDir\":\"/srv/services/demo\","
			   "\"serviceDirDisplay\":\"services/demo\","
			   "\"manifest\":{\"manifestVersion\":\"1\",\"id\":\"demo\","
			   "\"name\":\"Demo\",\"version\":\"1.0\",\"author\":\"Ann\"},"
			   "\"configSchema\":{},\"projects\":[\"p1\",\"p2\"],"
			   "\"configSchemaFields\":[{\"description\":\"devices\","
			   "\"items\":{\"fields\":[{\"name\":\"host\",\"required\":true,"
			   "\"type\":\"string\"}],\"name\":\"radars\",\"type\":\"object\"},"
			   "\"minItems\":1,\"name\":\"radars\",\"required\":true,"
			   "\"type\":\"array\"},{\"name\":\"rate\",\"type\":\"double\","
			   "\"default\":0.5}]}");
	RUN_CTL(&result, "--url", ts->url, "services", "show", "demo");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==,
			"ID:         demo\n"
			"Name:       Demo\n"
			"Version:    1.0\n"
			"Author:     Ann\n"
			"Directory:  /srv/services/demo\n"
			"Projects:   p1, p2\n"
			"\n"
			"Configuration fields:\n"
			"FIELD   TYPE    REQUIRED  DEFAULT  DESCRIPTION\n"
			"radars  array   yes       -        devices\n"
			"  host  string  yes       -\n"
			"rate    double  no        0.5\n");
}

static void
test_cli_instance_show_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "GET /api/instances/inst_0001", 200,
			   "{\"id\":\"inst_0001\",\"projectId\":\"p1\",\"serviceId\":\"demo\","
			   "\"pid\":0,\"startedAt\":\"2024-05-01T10:00:00Z\","
			   "\"status\":\"starting\",\"workingDirectory\":\"/srv/work\","
			   "\"logPath\":\"/srv/logs/p1.log\","
			   "\"commandLine\":[\"/usr/bin/run\",\"--config-file=/tmp/a b.json\"]}");
	RUN_CTL(&result, "--url", ts->url, "instances", "show", "inst_0001");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==,
			"ID:                 inst_0001\n"
			"Project:            p1\n"
			"Service:            demo\n"
			"Status:             starting\n"
			"PID:                0\n"
			"Started at:         2024-05-01T10:00:00Z\n"
			"Working directory:  /srv/work\n"
			"Log file:           /srv/logs/p1.log\n"
			"Command line:       '/usr/bin/run' '--config-file=/tmp/a b.json'\n");

	test_server_answer(ts, "POST /api/instances/inst_0001/terminate", 200,
			   "{\"terminated\":true}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "instances", "terminate", "inst_0001");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "Terminated instance inst_0001.\n");
}

static void
test_cli_drivers_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "GET /api/drivers", 200,
			   "{\"drivers\":[{\"id\":\"modbus\",\"program\":\"/srv/drivers/mb\","
			   "\"programDisplay\":\"drivers/mb\",\"metaHash\":\"abc\","
			   "\"name\":\"Modbus\",\"version\":\"2.1\"}]}");
	RUN_CTL(&result, "--url", ts->url, "drivers", "list");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==,
			"ID      NAME    VERSION  PROGRAM\n"
			"modbus  Modbus  2.1      drivers/mb\n");

	test_server_answer(ts, "GET /api/drivers/modbus", 200,
			   "{\"id\":\"modbus\",\"program\":\"/srv/drivers/mb\","
			   "\"programDisplay\":\"drivers/mb\",\"metaHash\":\"abc\","
			   "\"meta\":{\"schemaVersion\":\"1.0\",\"info\":{\"id\":\"modbus\","
			   "\"name\":\"Modbus\",\"version\":\"2.1\",\"vendor\":\"ACME\"},"
			   "\"commands\":[{\"name\":\"read\",\"title\":\"Read registers\","
			   "\"returns\":{\"type\":\"object\"}},{\"name\":\"ping\","
			   "\"description\":\"Check the link\",\"returns\":{\"type\":\"any\"}}]}}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "drivers", "show", "modbus");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==,
			"ID:             modbus\n"
			"Name:           Modbus\n"
			"Version:        2.1\n"
			"Vendor:         ACME\n"
			"Program:        /srv/drivers/mb\n"
			"Metadata hash:  abc\n"
			"\n"
			"Commands:\n"
			"COMMAND  DESCRIPTION\n"
			"read     Read registers\n"
			"ping     Check the link\n");
}

/* creating, changing and deleting projects */

#define PROJECT_ANSWER(id, status)                                                            \
	"{\"id\":\"" id "\",\"name\":\"N\",\"serviceId\":\"svc\",\"enabled\":true,"          \
	"\"valid\":true,\"schedule\":{\"type\":\"manual\",\"runTimeoutMs\":0},"               \
	"\"config\":{},\"instanceCount\":0,\"status\":\"" status "\"}"

static void
test_cli_project_create_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};
	g_autofree char *dir = g_dir_make_tmp("stdiolink-cli-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "p.json", NULL);
	g_autofree char *config_file = g_build_filename(dir, "config.json", NULL);

	test_server_answer(ts, "POST /api/projects", 201, PROJECT_ANSWER("p1", "stopped"));

	/* from options: --set values are JSON when they parse, text otherwise */
	RUN_CTL(&result, "--url", ts->url, "projects", "create", "--id", "p1", "--name",
		"Radar 1", "--service", "svc", "--schedule", "fixed_rate", "--interval-ms",
		"2000", "--max-concurrent", "2", "--run-timeout-ms", "0", "--set", "port=8080",
		"--set", "host=example.org", "--set", "tags=[\"a\"]", "--set", "on=true",
		"--set", "quoted=\"8080\"", "--set", "empty=", "--set", "eq=a=b");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.err, ==, "");
	g_assert_cmpstr(result.out, ==, "Created project “p1” (stopped).\n");
	g_assert_cmpstr(ts->last_method, ==, "POST");
	g_assert_cmpstr(ts->last_path, ==, "/api/projects");
	g_assert_cmpstr(ts->last_content_type, ==, "application/json");
	g_assert_cmpstr(ts->last_body, ==,
			"{\"config\":{\"empty\":\"\",\"eq\":\"a=b\",\"host\":\"example.org\","
			"\"on\":true,\"port\":8080,\"quoted\":\"8080\",\"tags\":[\"a\"]},"
			"\"id\":\"p1\",\"name\":\"Radar 1\",\"schedule\":{\"intervalMs\":2000,"
			"\"maxConcurrent\":2,\"runTimeoutMs\":0,\"type\":\"fixed_rate\"},"
			"\"serviceId\":\"svc\"}");

	/* --disabled, a daemon schedule, --config then --set on top of it */
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "create", "--id", "p1", "--name", "N",
		"--service", "svc", "--disabled", "--schedule", "daemon", "--restart-delay-ms",
		"0", "--max-failures", "3", "--config", "{\"a\":1,\"b\":2}", "--set", "b=3");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(ts->last_body, ==,
			"{\"config\":{\"a\":1,\"b\":3},\"enabled\":false,\"id\":\"p1\","
			"\"name\":\"N\",\"schedule\":{\"maxConsecutiveFailures\":3,"
			"\"restartDelayMs\":0,\"type\":\"daemon\"},\"serviceId\":\"svc\"}");

	/* from a file, which the options change */
	g_assert_true(g_file_set_contents(file,
					  "{\"id\":\"p1\",\"name\":\"From file\","
					  "\"serviceId\":\"svc\","
					  "\"schedule\":{\"type\":\"fixed_rate\","
					  "\"intervalMs\":500},\"config\":{\"x\":1}}",
					  -1, NULL));
	g_assert_true(g_file_set_contents(config_file, "{\"y\": 2}", -1, NULL));
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "create", "--file", file,
		"--interval-ms", "750");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(ts->last_body, ==,
			"{\"config\":{\"x\":1},\"id\":\"p1\",\"name\":\"From file\","
			"\"schedule\":{\"intervalMs\":750,\"type\":\"fixed_rate\"},"
			"\"serviceId\":\"svc\"}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "create", "--file", file, "--id", "p2",
		"--config-file", config_file);
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(ts->last_body, ==,
			"{\"config\":{\"y\":2},\"id\":\"p2\",\"name\":\"From file\","
			"\"schedule\":{\"intervalMs\":500,\"type\":\"fixed_rate\"},"
			"\"serviceId\":\"svc\"}");

	/* --json: the API's answer; a refusal: exit 1 with its message */
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "projects", "create", "--file", file);
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, PROJECT_ANSWER("p1", "stopped") "\n");
	test_server_answer(ts, "POST /api/projects", 409,
			   "{\"error\":\"project already exists\",\"code\":\"conflict\"}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "create", "--file", file);
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.out, ==, "");
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: project already exists\n");

	g_unlink(file);
	g_unlink(config_file);
	g_rmdir(dir);
}

static void
test_cli_project_update_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};
	g_autofree char *dir = g_dir_make_tmp("stdiolink-cli-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "p.json", NULL);
	guint n_log;

	/* the stored project, with what the daemon computes */
	test_server_answer(ts, "GET /api/projects/p1", 200,
			   "{\"id\":\"p1\",\"name\":\"Old\",\"serviceId\":\"svc\","
			   "\"enabled\":false,\"valid\":false,\"error\":\"port: bad\","
			   "\"status\":\"invalid\",\"instanceCount\":0,\"instances\":[],"
			   "\"configSchema\":{},\"schedule\":{\"type\":\"fixed_rate\","
			   "\"runTimeoutMs\":0,\"intervalMs\":5000,\"maxConcurrent\":1},"
			   "\"config\":{\"port\":70000,\"host\":\"h\"}}");
	test_server_answer(ts, "PUT /api/projects/p1", 200, PROJECT_ANSWER("p1", "disabled"));

	/* what no option names stays; computed fields are not sent back */
	n_log = ts->log->len;
	RUN_CTL(&result, "--url", ts->url, "projects", "update", "p1", "--name", "New",
		"--set", "port=8080", "--interval-ms", "1000");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.err, ==, "");
	g_assert_cmpstr(result.out, ==, "Updated project “p1” (disabled).\n");
	g_assert_cmpuint(ts->log->len, ==, n_log + 2);
	g_assert_cmpstr(g_ptr_array_index(ts->log, n_log), ==, "GET /api/projects/p1");
	g_assert_cmpstr(g_ptr_array_index(ts->log, n_log + 1), ==, "PUT /api/projects/p1");
	g_assert_cmpstr(ts->last_body, ==,
			"{\"config\":{\"host\":\"h\",\"port\":8080},\"enabled\":false,"
			"\"id\":\"p1\",\"name\":\"New\",\"schedule\":{\"intervalMs\":1000,"
			"\"maxConcurrent\":1,\"runTimeoutMs\":0,\"type\":\"fixed_rate\"},"
			"\"serviceId\":\"svc\"}");

	/* a new schedule type; an option of the stored type that the new one lacks is an
	 * error found after the stored project is read, and nothing is sent */
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "update", "p1", "--schedule", "daemon",
		"--max-failures", "2", "--service", "other", "--config", "{}");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(ts->last_body, ==,
			"{\"config\":{},\"enabled\":false,\"id\":\"p1\",\"name\":\"Old\","
			"\"schedule\":{\"intervalMs\":5000,\"maxConcurrent\":1,"
			"\"maxConsecutiveFailures\":2,\"runTimeoutMs\":0,\"type\":\"daemon\"},"
			"\"serviceId\":\"other\"}");
	n_log = ts->log->len;
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "update", "p1", "--restart-delay-ms", "5");
	g_assert_cmpint(result.status, ==, 2);
	g_assert_cmpstr(result.err, ==,
			"stdiolinkctl: “--restart-delay-ms” only applies to a daemon schedule, "
			"not to fixed_rate\n");
	g_assert_cmpuint(ts->log->len, ==, n_log + 1);

	/* --file replaces the stored project: nothing is read first */
	g_assert_true(g_file_set_contents(file, "{\"name\":\"F\",\"serviceId\":\"svc\"}", -1,
					  NULL));
	n_log = ts->log->len;
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "update", "p1", "--file", file,
		"--disabled");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpuint(ts->log->len, ==, n_log + 1);
	g_assert_cmpstr(ts->last_body, ==,
			"{\"enabled\":false,\"name\":\"F\",\"serviceId\":\"svc\"}");

	/* an unknown project: the GET fails, exit 1 */
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "update", "nope", "--name", "x");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: not found\n");
	g_assert_cmpstr(ts->last_method, ==, "GET");

	g_unlink(file);
	g_rmdir(dir);
}

static void
test_cli_project_actions_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "DELETE /api/projects/p1", 204, NULL);
	RUN_CTL(&result, "--url", ts->url, "projects", "delete", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "Deleted project “p1”; its log file is kept.\n");
	g_assert_cmpstr(ts->last_method, ==, "DELETE");

	/* 204 has no document: --json prints nothing */
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "projects", "delete", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "");

	test_server_answer(ts, "PATCH /api/projects/p1/enabled", 200,
			   PROJECT_ANSWER("p1", "running"));
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "enable", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "Enabled project “p1” (running).\n");
	g_assert_cmpstr(ts->last_method, ==, "PATCH");
	g_assert_cmpstr(ts->last_body, ==, "{\"enabled\":true}");

	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "disable", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "Disabled project “p1”; its instances were stopped.\n");
	g_assert_cmpstr(ts->last_body, ==, "{\"enabled\":false}");

	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "projects", "disable", "p1");
	g_assert_cmpstr(result.out, ==, PROJECT_ANSWER("p1", "running") "\n");

	test_server_answer(ts, "POST /api/projects/p1/reload", 200,
			   PROJECT_ANSWER("p1", "stopped"));
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "reload", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "Reloaded project “p1” from disk (stopped).\n");
	g_assert_cmpstr(ts->last_method, ==, "POST");

	test_server_answer(ts, "POST /api/projects/p1/reload", 409,
			   "{\"error\":\"project operation already in progress: p1\","
			   "\"code\":\"project_busy\"}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "reload", "p1");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.err, ==,
			"stdiolinkctl: project operation already in progress: p1\n");
}

#define RUNTIME_ANSWER(id, type, timer, failures)                                             \
	"{\"id\":\"" id "\",\"enabled\":true,\"valid\":true,\"status\":\"running\","          \
	"\"runningInstances\":1,\"instances\":[{\"id\":\"inst_0001\",\"projectId\":\"" id     \
	"\",\"serviceId\":\"svc\",\"pid\":42,\"startedAt\":\"2024-05-01T10:00:00Z\","         \
	"\"status\":\"running\"}],\"schedule\":{\"type\":\"" type "\",\"timerActive\":" timer \
	",\"restartSuppressed\":false,\"consecutiveFailures\":" failures                      \
	",\"shuttingDown\":false,\"autoRestarting\":false}}"

static void
test_cli_runtime_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(ts, "GET /api/projects/p1/runtime", 200,
			   RUNTIME_ANSWER("p1", "fixed_rate", "true", "0"));
	RUN_CTL(&result, "--url", ts->url, "projects", "runtime", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==,
			"ID:                  p1\n"
			"Status:              running\n"
			"Enabled:             yes\n"
			"Valid:               yes\n"
			"Schedule:            fixed_rate\n"
			"Timer armed:         yes\n"
			"Auto-restarting:     no\n"
			"Restart suppressed:  no\n"
			"Failures in a row:   0\n"
			"Shutting down:       no\n"
			"Instances:           1\n"
			"\n"
			"Instances:\n"
			"ID         PROJECT  SERVICE  PID  STATUS   STARTED\n"
			"inst_0001  p1       svc      42   running  2024-05-01T10:00:00Z\n");

	/* none or several: the list route, as a table */
	test_server_answer(ts, "GET /api/projects/runtime", 200,
			   "{\"runtimes\":[" RUNTIME_ANSWER("a", "daemon", "false", "2") ","
			   RUNTIME_ANSWER("b", "manual", "false", "0") "]}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "runtime");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_null(ts->last_query);
	g_assert_cmpstr(result.out, ==,
			"ID  STATUS   SCHEDULE  TIMER  AUTO-RESTART  SUPPRESSED  FAILURES  "
			"INSTANCES\n"
			"a   running  daemon    no     no            no          2         1\n"
			"b   running  manual    no     no            no          0         1\n");

	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "runtime", "a", "b");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(ts->last_query, ==, "ids=a,b");

	/* an id the daemon does not know: the others are shown, then exit 1 */
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "runtime", "a", "zz");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_nonnull(strstr(result.out, "\na   running"));
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: project not found: zz\n");

	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "projects", "runtime", "a", "b");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_true(g_str_has_prefix(result.out, "{\"runtimes\":[{\"id\":\"a\""));
}

/* logs */

static void
test_cli_logs_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};
	const char *body = "{\"projectId\":\"p1\",\"lines\":[\"one\",\"two \\u001b[2J\"],"
			   "\"logPath\":\"/srv/logs/p1.log\"}";
	g_autofree char *expected_json = g_strconcat(body, "\n", NULL);

	test_server_answer(ts, "GET /api/projects/p1/logs", 200, body);
	RUN_CTL(&result, "--url", ts->url, "projects", "logs", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "one\ntwo ?[2J\n");
	g_assert_cmpstr(ts->last_query, ==, "lines=100");

	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "projects", "logs", "-n", "2", "p1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(ts->last_query, ==, "lines=2");

	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "projects", "logs", "p1", "--lines=5000");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, expected_json);
	g_assert_cmpstr(ts->last_query, ==, "lines=5000");

	test_server_answer(ts, "GET /api/instances/inst_1/logs", 200,
			   "{\"projectId\":\"p1\",\"lines\":[\"last\"]}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "instances", "logs", "inst_1", "-n", "1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==, "last\n");
	g_assert_cmpstr(ts->last_query, ==, "lines=1");

	test_server_answer(ts, "GET /api/instances/inst_1/logs", 404,
			   "{\"error\":\"log file not found\",\"code\":\"not_found\"}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "instances", "logs", "inst_1");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: log file not found\n");
}

/* a stdiolinkctl that keeps running: read its output while this process serves it */

typedef struct {
	GSubprocess *proc;
	GDataInputStream *out;
	GDataInputStream *err;
} CtlProcess;

static void
ctl_process_clear(CtlProcess *p)
{
	g_clear_object(&p->out);
	g_clear_object(&p->err);
	if (p->proc != NULL)
		g_subprocess_force_exit(p->proc);
	g_clear_object(&p->proc);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CtlProcess, ctl_process_clear)

static void
ctl_process_start(CtlProcess *p, const char *const *args)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GPtrArray) argv = g_ptr_array_new();
	g_autoptr(GError) error = NULL;

	g_subprocess_launcher_unsetenv(launcher, "STDIOLINK_URL");
	g_subprocess_launcher_setenv(launcher, "NO_COLOR", "1", TRUE);
	g_ptr_array_add(argv, (gpointer)g_getenv("STDIOLINKCTL"));
	for (guint i = 0; args[i] != NULL; i++)
		g_ptr_array_add(argv, (gpointer)args[i]);
	g_ptr_array_add(argv, NULL);
	p->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata,
					       &error);
	g_assert_no_error(error);
	p->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p->proc));
	p->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(p->proc));
}

static void
assert_next_line(GDataInputStream *stream, const char *expected)
{
	g_autofree char *line = sl_test_read_line(stream);

	g_assert_cmpstr(line, ==, expected);
}

/* sends @signum (0: none) and returns the exit status */
static int
ctl_process_finish(CtlProcess *p, int signum)
{
	g_autoptr(GError) error = NULL;
	GAsyncResult *res = NULL;

	if (signum != 0)
		g_subprocess_send_signal(p->proc, signum);
	g_subprocess_wait_async(p->proc, NULL, store_result_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_subprocess_wait_finish(p->proc, res, &error);
	g_object_unref(res);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(p->proc));
	return g_subprocess_get_exit_status(p->proc);
}

static void
answer_log_lines(TestServer *ts, const char *lines)
{
	g_autofree char *body = g_strdup_printf("{\"projectId\":\"p1\",\"lines\":[%s],"
						"\"logPath\":\"/l/p1.log\"}",
						lines);

	test_server_answer(ts, "GET /api/projects/p1/logs", 200, body);
}

static void
test_cli_logs_follow_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlProcess) p = {NULL};
	g_autofree char *rest = NULL;
	guint n_requests;

	/* the last -n lines first */
	answer_log_lines(ts, "\"a\",\"b\",\"c\"");
	ctl_process_start(&p, (const char *const[]){"--url", ts->url, "projects", "logs", "p1",
						    "-n", "2", "-f", NULL});
	assert_next_line(p.out, "b");
	assert_next_line(p.out, "c");
	g_assert_cmpstr(ts->last_query, ==, "lines=1000");

	/* appended lines */
	answer_log_lines(ts, "\"a\",\"b\",\"c\",\"d\",\"e\"");
	assert_next_line(p.out, "d");
	assert_next_line(p.out, "e");

	/* the window of the last lines moved on */
	answer_log_lines(ts, "\"d\",\"e\",\"f\"");
	assert_next_line(p.out, "f");

	/* the same line again is a new line */
	answer_log_lines(ts, "\"d\",\"e\",\"f\",\"f\"");
	assert_next_line(p.out, "f");

	/* rotated: the new file shares nothing with the old one */
	answer_log_lines(ts, "\"x\"");
	assert_next_line(p.out, "x");

	/* emptied (seen by two polls), then written again */
	answer_log_lines(ts, "");
	n_requests = ts->n_requests;
	while (ts->n_requests < n_requests + 2)
		g_main_context_iteration(NULL, TRUE);
	answer_log_lines(ts, "\"y\"");
	assert_next_line(p.out, "y");

	/* Ctrl+C ends it cleanly */
	g_assert_cmpint(ctl_process_finish(&p, SIGINT), ==, 0);
	rest = sl_test_read_line(p.out);
	g_assert_null(rest);
}

static void
test_cli_logs_follow_error_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlProcess) p = {NULL};
	g_autofree char *err = NULL;

	/* the project goes away while it is followed */
	answer_log_lines(ts, "\"a\"");
	ctl_process_start(&p, (const char *const[]){"--url", ts->url, "--json", "projects",
						    "logs", "p1", "-f", NULL});
	assert_next_line(p.out, "\"a\"");
	test_server_answer(ts, "GET /api/projects/p1/logs", 404,
			   "{\"error\":\"project not found\",\"code\":\"not_found\"}");
	assert_next_line(p.out, "{\"error\":\"project not found\",\"code\":\"not_found\"}");
	err = sl_test_read_line(p.err);
	g_assert_cmpstr(err, ==, "stdiolinkctl: project not found");
	g_assert_cmpint(ctl_process_finish(&p, 0), ==, 1);
}

/* processes; g_format_size() puts a no-break space before the unit */
#define NBSP "\xc2\xa0"

static void
test_cli_process_tree_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};

	test_server_answer(
	    ts, "GET /api/instances/inst_1/process-tree", 200,
	    "{\"instanceId\":\"inst_1\",\"rootPid\":100,\"tree\":{\"pid\":100,\"name\":\"run\","
	    "\"commandLine\":\"run\",\"status\":\"sleeping\",\"resources\":{\"cpuPercent\":1.25,"
	    "\"memoryRssBytes\":2097152,\"memoryVmsBytes\":0,\"threadCount\":2,"
	    "\"uptimeSeconds\":5},\"children\":[{\"pid\":101,\"name\":\"worker\","
	    "\"status\":\"running\",\"resources\":{\"cpuPercent\":50,\"memoryRssBytes\":1024,"
	    "\"threadCount\":1},\"children\":[{\"pid\":103,\"name\":\"helper\","
	    "\"status\":\"zombie\",\"resources\":{\"cpuPercent\":0,\"memoryRssBytes\":0,"
	    "\"threadCount\":1},\"children\":[]}]},{\"pid\":102,\"name\":\"sleep\","
	    "\"status\":\"sleeping\",\"resources\":{\"cpuPercent\":0,\"memoryRssBytes\":512,"
	    "\"threadCount\":1},\"children\":[]}]},\"summary\":{\"totalProcesses\":4,"
	    "\"totalCpuPercent\":51.25,\"totalMemoryRssBytes\":2098688,\"totalThreads\":5}}");
	RUN_CTL(&result, "--url", ts->url, "instances", "tree", "inst_1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.err, ==, "");
	g_assert_cmpstr(result.out, ==,
			"PID  NAME          STATUS    CPU    RSS        THREADS\n"
			"100  run           sleeping  1.2%   2.0" NBSP "MiB    2\n"
			"101  ├─ worker     running   50.0%  1.0" NBSP "KiB    1\n"
			"103  │  └─ helper  zombie    0.0%   0 bytes    1\n"
			"102  └─ sleep      sleeping  0.0%   512 bytes  1\n"
			"\n"
			"4 processes, 5 threads, CPU 51.2%, memory 2.0" NBSP "MiB\n");

	test_server_answer(ts, "GET /api/instances/inst_1/process-tree", 404,
			   "{\"error\":\"instance not running\",\"code\":\"not_found\"}");
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "instances", "tree", "inst_1");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: instance not running\n");
}

static void
test_cli_resources_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlResult) result = {0};
	const char *body =
	    "{\"instanceId\":\"inst_1\",\"timestamp\":\"2024-05-01T10:00:00Z\",\"processes\":["
	    "{\"pid\":100,\"parentPid\":1,\"name\":\"run\",\"commandLine\":\"run\","
	    "\"status\":\"sleeping\",\"cpuPercent\":0,\"memoryRssBytes\":4194304,"
	    "\"memoryVmsBytes\":16777216,\"threadCount\":2,\"uptimeSeconds\":3725,"
	    "\"ioReadBytes\":0,\"ioWriteBytes\":2048},"
	    "{\"pid\":101,\"parentPid\":100,\"name\":\"child\",\"commandLine\":\"child\","
	    "\"status\":\"running\",\"cpuPercent\":99.96,\"memoryRssBytes\":1048576,"
	    "\"memoryVmsBytes\":2097152,\"threadCount\":1,\"uptimeSeconds\":42,"
	    "\"ioReadBytes\":1536,\"ioWriteBytes\":0}],"
	    "\"summary\":{\"totalProcesses\":2,\"totalCpuPercent\":99.96,"
	    "\"totalMemoryRssBytes\":5242880,\"totalThreads\":3}}";

	test_server_answer(ts, "GET /api/instances/inst_1/resources", 200, body);
	RUN_CTL(&result, "--url", ts->url, "instances", "resources", "inst_1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_cmpstr(result.out, ==,
			"PID  PPID  NAME   STATUS    CPU     RSS      VIRTUAL   THREADS  UPTIME  "
			"READ     WRITTEN\n"
			"100  1     run    sleeping  0.0%    4.0" NBSP "MiB  16.0" NBSP
			"MiB  2        1h 2m   0 bytes  2.0" NBSP "KiB\n"
			"101  100   child  running   100.0%  1.0" NBSP "MiB  2.0" NBSP
			"MiB   1        42s     1.5" NBSP "KiB  0 bytes\n"
			"\n"
			"2 processes, 3 threads, CPU 100.0%, memory 5.0" NBSP "MiB\n");

	/* --json: the API's answer */
	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", ts->url, "--json", "instances", "resources", "inst_1");
	g_assert_cmpint(result.status, ==, 0);
	g_assert_true(g_str_has_prefix(result.out, body));
}

/* events */

static const char *sse_body =
    ": heartbeat\n"
    "\n"
    "event: instance.started\n"
    "data: {\"instanceId\":\"inst_1\",\"pid\":42,\"projectId\":\"p1\"}\n"
    "\n"
    "event: instance.started\r\n"
    "data: {\"instanceId\":\"inst_2\",\"pid\":43,\"projectId\":\"p2\"}\r\n"
    "\r\n"
    "event: schedule.suppressed\n"
    "data: {\"consecutiveFailures\":5,\"projectId\":\"p1\",\"reason\":\"crash_loop\"}\n"
    "\n"
    "event: odd\n"
    "data: not json \033[2J\n"
    "\n"
    "event: instance.finished\n"
    "data: {\"exitCode\":0,\"instanceId\":\"inst_1\",\"projectId\":\"p1\","
    "\"status\":\"normal\"}\n"
    "\n";

static void
assert_event_line(GDataInputStream *stream, const char *expected)
{
	g_autofree char *line = sl_test_read_line(stream);
	g_autofree char *pattern = g_strdup_printf("^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d %s$",
						   expected);

	g_assert_nonnull(line);
	if (!g_regex_match_simple(pattern, line, 0, 0))
		g_error("“%s” does not match “%s”", line, pattern);
}

static void
test_cli_events_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlProcess) p = {NULL};
	g_autofree char *hint = NULL;
	g_autofree char *err = NULL;

	/* a stream the test server ends after these events, while the daemon still answers */
	test_server_answer(ts, "GET /api/events/stream", 200, sse_body);
	test_server_answer(ts, "GET /api/server/status", 200, "{\"status\":\"ok\"}");
	ctl_process_start(&p, (const char *const[]){"--url", ts->url, "events", NULL});
	assert_event_line(p.out, "instance\\.started p1 instanceId=inst_1 pid=42");
	assert_event_line(p.out, "instance\\.started p2 instanceId=inst_2 pid=43");
	assert_event_line(p.out, "schedule\\.suppressed p1 consecutiveFailures=5 "
				 "reason=crash_loop");
	assert_event_line(p.out, "odd - not json \\?\\[2J");
	assert_event_line(p.out, "instance\\.finished p1 exitCode=0 instanceId=inst_1 "
				 "status=normal");
	hint = sl_test_read_line(p.err);
	g_assert_nonnull(strstr(hint, ts->url));
	err = sl_test_read_line(p.err);
	g_assert_cmpstr(err, ==, "stdiolinkctl: stdiolinkd closed the event stream");
	g_assert_cmpint(ctl_process_finish(&p, 0), ==, 1);
	g_assert_cmpstr(g_ptr_array_index(ts->log, 0), ==, "GET /api/events/stream");
	g_assert_cmpstr(g_ptr_array_index(ts->log, 1), ==, "GET /api/server/status");
}

static void
test_cli_events_filter_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlProcess) p = {NULL};

	/* --type goes to the daemon, --project is applied here; --json gives JSON lines */
	test_server_answer(ts, "GET /api/events/stream", 200, sse_body);
	ctl_process_start(&p, (const char *const[]){"--url", ts->url, "--json", "events",
						    "--type", "instance", "--type", "a b",
						    "--project", "p1", NULL});
	assert_next_line(p.out, "{\"data\":{\"instanceId\":\"inst_1\",\"pid\":42,"
				"\"projectId\":\"p1\"},\"type\":\"instance.started\"}");
	assert_next_line(p.out, "{\"data\":{\"consecutiveFailures\":5,\"projectId\":\"p1\","
				"\"reason\":\"crash_loop\"},\"type\":\"schedule.suppressed\"}");
	assert_next_line(p.out, "{\"data\":{\"exitCode\":0,\"instanceId\":\"inst_1\","
				"\"projectId\":\"p1\",\"status\":\"normal\"},"
				"\"type\":\"instance.finished\"}");
	assert_next_line(p.out, NULL);
	g_assert_cmpint(ctl_process_finish(&p, 0), ==, 1);
	g_assert_cmpstr(g_ptr_array_index(ts->log, 0), ==,
			"GET /api/events/stream?filter=instance,a%20b");
}

static void
test_cli_events_refused_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_autofree char *url = unreachable_url();
	g_auto(CtlResult) result = {0};

	/* a daemon without the route, and none at all */
	RUN_CTL(&result, "--url", ts->url, "events");
	g_assert_cmpint(result.status, ==, 1);
	g_assert_cmpstr(result.out, ==, "");
	g_assert_cmpstr(result.err, ==, "stdiolinkctl: not found\n");

	ctl_result_clear(&result);
	RUN_CTL(&result, "--url", url, "events");
	assert_unreachable(&result, url);
}

/* a stream that stays open and says nothing but one heartbeat */
static void
quiet_stream_cb(SoupServer *server,
		SoupServerMessage *msg,
		const char *path,
		GHashTable *query,
		gpointer user_data)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
	const char *heartbeat = ": heartbeat\n\n";

	soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);
	soup_message_headers_set_content_type(headers, "text/event-stream", NULL);
	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_message_body_append(soup_server_message_get_response_body(msg), SOUP_MEMORY_STATIC,
				 heartbeat, strlen(heartbeat));
}

/* Ctrl+C while the stream is open and quiet */
static void
test_cli_events_interrupt_func(void)
{
	g_autoptr(TestServer) ts = test_server_new();
	g_auto(CtlProcess) p = {NULL};
	g_autofree char *hint = NULL;

	soup_server_add_handler(ts->server, "/api/events/stream", quiet_stream_cb, NULL, NULL);
	ctl_process_start(&p, (const char *const[]){"--url", ts->url, "events", NULL});
	hint = sl_test_read_line(p.err);
	g_assert_nonnull(hint);
	g_assert_nonnull(strstr(hint, "Ctrl+C"));
	g_assert_cmpint(ctl_process_finish(&p, SIGINT), ==, 0);
	assert_next_line(p.out, NULL);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/client/success", test_client_success_func);
	g_test_add_func("/client/no-content", test_client_no_content_func);
	g_test_add_func("/client/request-body", test_client_request_body_func);
	g_test_add_func("/client/request-headers", test_client_request_headers_func);
	g_test_add_func("/client/error-body", test_client_error_body_func);
	g_test_add_func("/client/invalid-json", test_client_invalid_json_func);
	g_test_add_func("/client/unreachable", test_client_unreachable_func);
	g_test_add_func("/client/invalid-url", test_client_invalid_url_func);
	g_test_add_func("/client/base-url", test_client_base_url_func);
	g_test_add_func("/client/escape", test_client_escape_func);
	g_test_add_func("/client/sse-parser", test_client_sse_parser_func);
	g_test_add_func("/client/stream", test_client_stream_func);
	g_test_add_func("/console/width", test_console_width_func);
	g_test_add_func("/console/sanitize", test_console_sanitize_func);
	g_test_add_func("/console/table", test_console_table_func);
	g_test_add_func("/console/colour", test_console_colour_func);
	g_test_add_func("/console/progress-bar", test_console_progress_bar_func);
	g_test_add_func("/cli/usage", test_cli_usage_func);
	g_test_add_func("/cli/usage-edit", test_cli_usage_edit_func);
	g_test_add_func("/cli/unknown-noun-message", test_cli_unknown_noun_message_func);
	g_test_add_func("/cli/help", test_cli_help_func);
	g_test_add_func("/cli/help-noun", test_cli_help_noun_func);
	g_test_add_func("/cli/version", test_cli_version_func);
	g_test_add_func("/cli/unreachable", test_cli_unreachable_func);
	g_test_add_func("/cli/unreachable-env", test_cli_unreachable_env_func);
	g_test_add_func("/cli/default-url", test_cli_default_url_func);
	g_test_add_func("/cli/json-verbatim", test_cli_json_verbatim_func);
	g_test_add_func("/cli/services-table", test_cli_services_table_func);
	g_test_add_func("/cli/status", test_cli_status_func);
	g_test_add_func("/cli/http-error", test_cli_http_error_func);
	g_test_add_func("/cli/escape", test_cli_escape_func);
	g_test_add_func("/cli/validate", test_cli_validate_func);
	g_test_add_func("/cli/start-stop", test_cli_start_stop_func);
	g_test_add_func("/cli/project-show", test_cli_project_show_func);
	g_test_add_func("/cli/projects-list", test_cli_projects_list_func);
	g_test_add_func("/cli/service-show", test_cli_service_show_func);
	g_test_add_func("/cli/instance-show", test_cli_instance_show_func);
	g_test_add_func("/cli/drivers", test_cli_drivers_func);
	g_test_add_func("/cli/project-create", test_cli_project_create_func);
	g_test_add_func("/cli/project-update", test_cli_project_update_func);
	g_test_add_func("/cli/project-actions", test_cli_project_actions_func);
	g_test_add_func("/cli/runtime", test_cli_runtime_func);
	g_test_add_func("/cli/logs", test_cli_logs_func);
	g_test_add_func("/cli/logs-follow", test_cli_logs_follow_func);
	g_test_add_func("/cli/logs-follow-error", test_cli_logs_follow_error_func);
	g_test_add_func("/cli/process-tree", test_cli_process_tree_func);
	g_test_add_func("/cli/resources", test_cli_resources_func);
	g_test_add_func("/cli/events", test_cli_events_func);
	g_test_add_func("/cli/events-filter", test_cli_events_filter_func);
	g_test_add_func("/cli/events-refused", test_cli_events_refused_func);
	g_test_add_func("/cli/events-interrupt", test_cli_events_interrupt_func);

	return g_test_run();
}

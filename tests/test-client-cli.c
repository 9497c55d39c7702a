/* posix_openpt() and friends */
#define _GNU_SOURCE

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../stdiolinkctl/slc-console.h"
#include "stdiolink.h"

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
	const char *nouns[] = {"status", "services", "projects", "instances", "drivers"};
	const char *commands[] = {"services list", "services show", "projects list",
				  "projects show", "projects validate", "projects start",
				  "projects stop", "instances list", "instances show",
				  "instances terminate", "drivers list", "drivers show"};
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
	const char *nouns[] = {"status", "services", "projects", "instances", "drivers"};

	for (guint i = 0; i < G_N_ELEMENTS(nouns); i++) {
		g_auto(CtlResult) result = {0};
		g_autofree char *example = g_strdup_printf("stdiolinkctl %s", nouns[i]);

		RUN_CTL(&result, nouns[i], "--help");
		g_assert_cmpint(result.status, ==, 0);
		g_assert_cmpstr(result.err, ==, "");
		g_assert_nonnull(strstr(result.out, "Examples:"));
		g_assert_nonnull(strstr(result.out, example));
	}

	/* the group's help lists its commands and their options */
	{
		g_auto(CtlResult) result = {0};

		RUN_CTL(&result, "projects", "validate", "--help");
		g_assert_cmpint(result.status, ==, 0);
		g_assert_nonnull(strstr(result.out, "projects validate ID"));
		g_assert_nonnull(strstr(result.out, "--config-file FILE"));
		g_assert_nonnull(strstr(result.out, "projects stop ID"));
		g_assert_null(strstr(result.out, "drivers list"));
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

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/client/success", test_client_success_func);
	g_test_add_func("/client/no-content", test_client_no_content_func);
	g_test_add_func("/client/request-body", test_client_request_body_func);
	g_test_add_func("/client/error-body", test_client_error_body_func);
	g_test_add_func("/client/invalid-json", test_client_invalid_json_func);
	g_test_add_func("/client/unreachable", test_client_unreachable_func);
	g_test_add_func("/client/invalid-url", test_client_invalid_url_func);
	g_test_add_func("/client/base-url", test_client_base_url_func);
	g_test_add_func("/client/escape", test_client_escape_func);
	g_test_add_func("/console/width", test_console_width_func);
	g_test_add_func("/console/sanitize", test_console_sanitize_func);
	g_test_add_func("/console/table", test_console_table_func);
	g_test_add_func("/console/colour", test_console_colour_func);
	g_test_add_func("/cli/usage", test_cli_usage_func);
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

	return g_test_run();
}

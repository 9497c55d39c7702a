#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "sl-daemon-fixture.h"
#include "sl-test-utils.h"

/*
 * DriverLab through the real daemon with libsoup's WebSocket client, as a browser would
 * use it, against the demo drivers, sl-test-driver and small shell drivers.
 */

#define WAIT_LIMIT_US (20 * G_USEC_PER_SEC)

typedef struct {
	SoupWebsocketConnection *ws;
	GError *error;
	guint status;	     /* of a refused upgrade */
	GPtrArray *messages; /* JsonNode, in arrival order */
	guint cursor;	     /* messages before it were consumed by waits */
	gboolean closed;
	gushort close_code;
	char *close_reason;
	gboolean done;	     /* the connect finished */
} Client;

/* ---- data root ------------------------------------------------------------------------- */

static void
install_driver(SlDaemonFixture *fx, const char *dir_name, const char *program,
	       const char *meta)
{
	g_autofree char *exe_name = g_strconcat("stdio.drv.", dir_name, NULL);
	g_autofree char *rel = g_build_filename("drivers", dir_name, exe_name, NULL);
	g_autofree char *rel_meta = g_build_filename("drivers", dir_name, "driver.meta.json",
						     NULL);
	g_autofree char *dst_path = sl_daemon_fixture_path(fx, rel);
	g_autofree char *contents = NULL;
	gsize length = 0;

	g_assert_true(g_file_get_contents(program, &contents, &length, NULL));
	sl_daemon_fixture_write(fx, rel_meta, meta);
	g_assert_true(g_file_set_contents(dst_path, contents, (gssize)length, NULL));
	g_assert_cmpint(g_chmod(dst_path, 0755), ==, 0);
}

/* a built demo driver with the meta it exported itself */
static void
install_demo_driver(SlDaemonFixture *fx, const char *name)
{
	g_autofree char *exe = g_strconcat("stdio.drv.", name, NULL);
	g_autofree char *program = g_build_filename(g_getenv("SL_DEMO_DRIVERS"), name, exe, NULL);
	g_autofree char *meta_path = g_build_filename(g_getenv("SL_DEMO_DRIVERS"), name,
						      "driver.meta.json", NULL);
	g_autofree char *meta = sl_test_read_file(meta_path);

	install_driver(fx, name, program, meta);
}

static void
install_test_driver(SlDaemonFixture *fx)
{
	install_driver(fx, "test", g_getenv("SL_TEST_DRIVER"),
		       "{\"schemaVersion\":\"1.0\",\"info\":{\"id\":\"test.driver\","
		       "\"name\":\"Test\",\"version\":\"0.1\"}}");
}

/* a shell driver; its meta is generated from @id */
static void
install_script_driver(SlDaemonFixture *fx, const char *id, const char *script)
{
	g_autofree char *exe_name = g_strconcat("stdio.drv.", id, NULL);
	g_autofree char *rel = g_build_filename("drivers", id, exe_name, NULL);
	g_autofree char *rel_meta = g_build_filename("drivers", id, "driver.meta.json", NULL);
	g_autofree char *meta = g_strdup_printf(
	    "{\"info\":{\"id\":\"%s\",\"name\":\"%s\",\"version\":\"1\"}}", id, id);
	g_autofree char *text = g_strconcat("#!/bin/sh\n", script, "\n", NULL);
	g_autofree char *dir = sl_daemon_fixture_path(fx, ".");

	sl_daemon_fixture_write(fx, rel_meta, meta);
	sl_test_write_file(dir, rel, text, 0755);
}

static void
setup(SlDaemonFixture *fx)
{
	sl_daemon_fixture_init(fx);
	install_demo_driver(fx, "calculator");
	install_demo_driver(fx, "heartbeat");
	install_demo_driver(fx, "kvstore");
	install_test_driver(fx);
}

/* ---- client ---------------------------------------------------------------------------- */

static void
client_message_cb(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
	Client *client = user_data;
	gsize length = 0;
	const char *data = g_bytes_get_data(message, &length);
	JsonNode *node;

	g_assert_cmpint(type, ==, SOUP_WEBSOCKET_DATA_TEXT);
	node = stdiolink_json_parse(data, (gssize)length, NULL);
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	g_ptr_array_add(client->messages, node);
}

static void
client_closed_cb(SoupWebsocketConnection *ws, gpointer user_data)
{
	Client *client = user_data;

	client->closed = TRUE;
	client->close_code = soup_websocket_connection_get_close_code(ws);
	client->close_reason = g_strdup(soup_websocket_connection_get_close_data(ws));
}

static void
connected_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Client *client = user_data;

	client->ws = soup_session_websocket_connect_finish(SOUP_SESSION(source), res,
							    &client->error);
	client->done = TRUE;
	if (client->ws == NULL)
		return;
	g_signal_connect(client->ws, "message", G_CALLBACK(client_message_cb), client);
	g_signal_connect(client->ws, "closed", G_CALLBACK(client_closed_cb), client);
}

static void
spin_until(gboolean *flag)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_LIMIT_US;

	while (!*flag && g_get_monotonic_time() < deadline) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
	g_assert_true(*flag);
}

/* spins the loop for @ms, handling whatever arrives */
static void
spin_for(guint ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;

	while (g_get_monotonic_time() < deadline) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
}

static Client *
client_connect_full(SlDaemonFixture *fx, const char *path_and_query, const char *origin)
{
	Client *client = g_new0(Client, 1);
	g_autofree char *url = g_strconcat(fx->base_url, path_and_query, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);

	g_assert_nonnull(msg);
	client->messages = g_ptr_array_new_with_free_func((GDestroyNotify)json_node_unref);
	soup_session_websocket_connect_async(fx->session, msg, origin, NULL, G_PRIORITY_DEFAULT,
					     NULL, connected_cb, client);
	spin_until(&client->done);
	client->status = soup_message_get_status(msg);
	return client;
}

static Client *
client_connect(SlDaemonFixture *fx, const char *path_and_query)
{
	Client *client = client_connect_full(fx, path_and_query, NULL);

	g_assert_no_error(client->error);
	g_assert_nonnull(client->ws);
	return client;
}

static void
client_free(Client *client)
{
	if (client->ws != NULL) {
		SoupWebsocketState state = soup_websocket_connection_get_state(client->ws);

		g_signal_handlers_disconnect_by_data(client->ws, client);
		if (state == SOUP_WEBSOCKET_STATE_OPEN)
			soup_websocket_connection_close(client->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
							NULL);
		g_object_unref(client->ws);
	}
	g_clear_error(&client->error);
	g_ptr_array_unref(client->messages);
	g_free(client->close_reason);
	g_free(client);
}

static void
client_send(Client *client, const char *text)
{
	soup_websocket_connection_send_text(client->ws, text);
}

static const char *
type_of(JsonNode *node)
{
	return json_object_get_string_member(json_node_get_object(node), "type");
}

/* the next message not consumed yet; it must be of @type */
static JsonObject *
client_next(Client *client, const char *type)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_LIMIT_US;
	JsonNode *node;

	while (client->cursor >= client->messages->len && g_get_monotonic_time() < deadline) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
	g_assert_cmpuint(client->cursor, <, client->messages->len);
	node = g_ptr_array_index(client->messages, client->cursor++);
	if (g_strcmp0(type_of(node), type) != 0) {
		g_autofree char *text = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);

		g_error("expected a %s message, got %s", type, text);
	}
	return json_node_get_object(node);
}

static void
client_expect_error(Client *client, const char *message)
{
	JsonObject *error = client_next(client, "error");

	g_assert_cmpstr(json_object_get_string_member(error, "message"), ==, message);
}

/* the payload of the next `stdout` message, compact */
static char *
client_next_stdout(Client *client)
{
	JsonObject *out = client_next(client, "stdout");

	return stdiolink_json_to_string(json_object_get_member(out, "message"),
					STDIOLINK_JSON_COMPACT);
}

static void
client_expect_stdout(Client *client, const char *expected)
{
	g_autofree char *text = client_next_stdout(client);

	g_assert_cmpstr(text, ==, expected);
}

static void
client_expect_exited(Client *client, gint code, const char *status, const char *reason)
{
	JsonObject *exited = client_next(client, "driver.exited");

	g_assert_cmpint(json_object_get_int_member(exited, "exitCode"), ==, code);
	g_assert_cmpstr(json_object_get_string_member(exited, "exitStatus"), ==, status);
	g_assert_cmpstr(json_object_get_string_member(exited, "reason"), ==, reason);
}

static gint
client_expect_started(Client *client)
{
	JsonObject *started = client_next(client, "driver.started");
	gint pid = (gint)json_object_get_int_member(started, "pid");

	g_assert_cmpint(pid, >, 0);
	return pid;
}

static void
client_expect_closed(Client *client, gushort code, const char *reason)
{
	spin_until(&client->closed);
	g_assert_cmpuint(client->close_code, ==, code);
	g_assert_cmpstr(client->close_reason, ==, reason);
}

/* nothing more arrives for @ms */
static void
client_expect_quiet(Client *client, guint ms)
{
	spin_for(ms);
	g_assert_cmpuint(client->cursor, ==, client->messages->len);
}

static gboolean
pid_gone(SlDaemonFixture *fx, gpointer data)
{
	return !sl_daemon_fixture_pid_alive(GPOINTER_TO_INT(data));
}

/* ---- upgrade checks -------------------------------------------------------------------- */

/* an upgrade request sent as plain HTTP with one optional extra header, to read the answer */
static SoupMessage *
send_upgrade(SlDaemonFixture *fx, const char *path, const char *header, const char *value,
	     char **body)
{
	g_autofree char *url = g_strconcat(fx->base_url, path, NULL);
	SoupMessage *msg = soup_message_new("GET", url);
	SoupMessageHeaders *headers = soup_message_get_request_headers(msg);
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;

	soup_message_headers_replace(headers, "Upgrade", "websocket");
	soup_message_headers_replace(headers, "Connection", "Upgrade");
	soup_message_headers_replace(headers, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
	soup_message_headers_replace(headers, "Sec-WebSocket-Version", "13");
	if (header != NULL)
		soup_message_headers_replace(headers, header, value);
	reply = soup_session_send_and_read(fx->session, msg, NULL, &error);
	g_assert_no_error(error);
	if (body != NULL)
		*body = g_strndup(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply));
	return msg;
}

/* the refusal of an upgrade, which carries no CORS origin */
static char *
refused_upgrade(SlDaemonFixture *fx, const char *path, const char *origin, guint *status)
{
	char *body = NULL;
	g_autoptr(SoupMessage) msg = send_upgrade(fx, path, origin != NULL ? "Origin" : NULL,
						  origin, &body);

	*status = soup_message_get_status(msg);
	g_assert_null(soup_message_headers_get_one(soup_message_get_response_headers(msg),
						   "Access-Control-Allow-Origin"));
	return body;
}

static void
assert_refused(SlDaemonFixture *fx, const char *path, guint expected_status,
	       const char *expected_body)
{
	guint status = 0;
	g_autofree char *body = refused_upgrade(fx, path, NULL, &status);

	g_assert_cmpuint(status, ==, expected_status);
	g_assert_cmpstr(body, ==, expected_body);
}

static void
test_upgrade_checks_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *forbidden = NULL;
	g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func((GDestroyNotify)client_free);
	Client *client;
	g_autofree char *own_origin = NULL;

	setup(&fx);
	sl_daemon_fixture_start(&fx);

	assert_refused(&fx, "/api/driverlab/nope", 404, "driver not found");
	assert_refused(&fx, "/api/driverlab/", 404, "driver not found");
	assert_refused(&fx, "/api/driverlab/demo.calculator?runMode=forever", 400,
		       "invalid runMode");

	/* a plain GET is no upgrade: the usual JSON 404 */
	node = sl_daemon_fixture_request(&fx, "GET", "/api/driverlab/demo.calculator", NULL,
					 &status);
	g_assert_cmpuint(status, ==, 404);
	sl_daemon_fixture_assert_error(node, "not_found", "not found");

	/* a page from another origin may not drive the daemon (DESIGN.md, Access) */
	forbidden = refused_upgrade(&fx, "/api/driverlab/demo.calculator",
				    "http://evil.example", &status);
	g_assert_cmpuint(status, ==, 403);
	client = client_connect_full(&fx, "/api/driverlab/demo.calculator",
				     "http://evil.example");
	g_assert_null(client->ws);
	g_assert_cmpuint(client->status, ==, 403);
	client_free(client);

	/* the daemon's own origin is fine; ten connections are, an eleventh is not */
	own_origin = g_strdup(fx.base_url);
	client = client_connect_full(&fx, "/api/driverlab/demo.calculator?runMode=", own_origin);
	g_assert_nonnull(client->ws);
	g_ptr_array_add(clients, client);
	for (guint i = 1; i < 10; i++)
		g_ptr_array_add(clients, client_connect(&fx, "/api/driverlab/demo.kvstore"));
	assert_refused(&fx, "/api/driverlab/demo.calculator", 429, "too many connections");

	/* a closed one frees its place */
	g_ptr_array_remove_index(clients, 0);
	spin_for(200);
	g_ptr_array_add(clients, client_connect(&fx, "/api/driverlab/demo.calculator"));
	g_ptr_array_set_size(clients, 0);
	sl_daemon_fixture_clear(&fx);
}

/* ---- sessions -------------------------------------------------------------------------- */

static void
test_oneshot_session_func(void)
{
	SlDaemonFixture fx;
	Client *client;
	JsonObject *meta;
	JsonObject *restarted;
	gint pid;

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/demo.calculator?runMode=oneshot");

	/* started, the meta reply, then the oneshot driver exits after meta.describe */
	pid = client_expect_started(client);
	meta = client_next(client, "meta");
	g_assert_cmpstr(json_object_get_string_member(meta, "driverId"), ==, "demo.calculator");
	g_assert_cmpint(json_object_get_int_member(meta, "pid"), ==, pid);
	g_assert_cmpstr(json_object_get_string_member(meta, "runMode"), ==, "oneshot");
	g_assert_cmpstr(json_object_get_string_member(
			    json_object_get_object_member(
				json_object_get_object_member(meta, "meta"), "info"),
			    "id"),
			==, "demo.calculator");
	client_expect_exited(client, 0, "normal", "driver exited normally");

	/* each exec restarts it */
	for (guint i = 0; i < 2; i++) {
		client_send(client,
			    "{\"type\":\"exec\",\"cmd\":\"add\",\"data\":{\"a\":2,\"b\":3}}");
		restarted = client_next(client, "driver.restarted");
		g_assert_cmpstr(json_object_get_string_member(restarted, "reason"), ==,
				"oneshot auto-restart");
		g_assert_cmpint(json_object_get_int_member(restarted, "pid"), !=, pid);
		client_expect_stdout(client,
				     "{\"code\":0,\"data\":{\"result\":5},\"status\":\"done\"}");
		client_expect_exited(client, 0, "normal", "driver exited normally");
	}

	/* validation happens in the driver; its error is just another stdout line */
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"add\",\"data\":{\"a\":2}}");
	client_next(client, "driver.restarted");
	client_expect_stdout(client,
			     "{\"code\":400,\"data\":{\"message\":\"b: required field missing\","
			     "\"name\":\"ValidationFailed\"},\"status\":\"error\"}");
	client_expect_exited(client, 0, "normal", "driver exited normally");
	g_assert_false(client->closed);
	client_free(client);
	sl_daemon_fixture_clear(&fx);
}

static void
test_keepalive_session_func(void)
{
	SlDaemonFixture fx;
	Client *client;
	gint pid;

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/demo.kvstore?runMode=keepalive");
	pid = client_expect_started(client);
	client_next(client, "meta");

	/* one process keeps the state between commands */
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"set\","
			    "\"data\":{\"key\":\"k\",\"value\":{\"n\":1}}}");
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"get\",\"data\":{\"key\":\"k\"}}");
	client_expect_stdout(client, "{\"code\":0,\"data\":{\"created\":true,\"key\":\"k\"},"
				     "\"status\":\"done\"}");
	client_expect_stdout(client, "{\"code\":0,\"data\":{\"key\":\"k\",\"value\":{\"n\":1}},"
				     "\"status\":\"done\"}");
	g_assert_true(sl_daemon_fixture_pid_alive(pid));

	/* cancel closes stdin: the driver exits and the socket closes with its reason */
	client_send(client, "{\"type\":\"cancel\"}");
	client_expect_exited(client, 0, "normal", "driver exited normally");
	client_expect_closed(client, 1000, "driver exited normally");
	client_free(client);
	sl_daemon_fixture_clear(&fx);
}

static void
test_events_func(void)
{
	SlDaemonFixture fx;
	Client *client;

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/demo.heartbeat?runMode=keepalive");
	client_expect_started(client);
	client_next(client, "meta");
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"beat\","
			    "\"data\":{\"count\":3,\"intervalMs\":100}}");
	for (guint i = 1; i <= 3; i++) {
		g_autofree char *expected = g_strdup_printf(
		    "{\"code\":0,\"data\":{\"data\":{\"label\":\"beat\",\"n\":%u,\"of\":3},"
		    "\"event\":\"beat\"},\"status\":\"event\"}",
		    i);

		client_expect_stdout(client, expected);
	}
	client_expect_stdout(client, "{\"code\":0,\"data\":{\"beats\":3},\"status\":\"done\"}");

	/* cmd and data go to the driver as sent, even when odd */
	client_send(client, "{\"type\":\"exec\",\"cmd\":7}");
	client_expect_stdout(client, "{\"code\":1000,\"data\":{\"message\":\"invalid request "
				     "format\",\"raw\":\"{\\\"cmd\\\":7}\"},\"status\":\"error\"}");
	client_send(client, "{\"type\":\"exec\"}");
	client_expect_stdout(client, "{\"code\":1000,\"data\":{\"message\":\"invalid request "
				     "format\",\"raw\":\"{}\"},\"status\":\"error\"}");
	client_free(client);
	sl_daemon_fixture_clear(&fx);
}

static void
test_client_errors_func(void)
{
	SlDaemonFixture fx;
	Client *client;
	g_autoptr(GBytes) binary = g_bytes_new_static("\x01\x02", 2);

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/demo.calculator?runMode=keepalive");
	client_expect_started(client);
	client_next(client, "meta");

	client_send(client, "not json");
	client_expect_error(client, "invalid JSON");
	client_send(client, "[1,2]");
	client_expect_error(client, "invalid JSON");
	client_send(client, "{\"type\":\"nope\"}");
	client_expect_error(client, "unknown message type: nope");
	client_send(client, "{}");
	client_expect_error(client, "unknown message type: ");
	client_send(client, "{\"type\":5}");
	client_expect_error(client, "unknown message type: ");

	/* binary frames are ignored; the connection still works */
	soup_websocket_connection_send_message(client->ws, SOUP_WEBSOCKET_DATA_BINARY, binary);
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"multiply\",\"data\":{\"a\":2,\"b\":4}}");
	client_expect_stdout(client, "{\"code\":0,\"data\":{\"result\":8},\"status\":\"done\"}");
	client_free(client);
	sl_daemon_fixture_clear(&fx);
}

static void
test_raw_stdout_func(void)
{
	SlDaemonFixture fx;
	Client *client;

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/test.driver?runMode=keepalive");
	client_expect_started(client);
	client_next(client, "meta");

	/* a line that is not a JSON object is forwarded as a string */
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"raw\",\"data\":{\"text\":\"[1, 2]\"}}");
	client_expect_stdout(client, "\"[1, 2]\"");
	client_expect_stdout(client, "{\"code\":0,\"data\":null,\"status\":\"done\"}");
	client_free(client);
	sl_daemon_fixture_clear(&fx);
}

/* ---- failures -------------------------------------------------------------------------- */

static void
test_crash_mid_command_func(void)
{
	SlDaemonFixture fx;
	Client *client;

	setup(&fx);
	sl_daemon_fixture_start(&fx);

	/* keepalive: the crash ends the connection */
	client = client_connect(&fx, "/api/driverlab/test.driver?runMode=keepalive");
	client_expect_started(client);
	client_next(client, "meta");
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"crash\"}");
	client_expect_stdout(client, "{\"code\":0,\"data\":{\"data\":null,\"event\":"
				     "\"before-crash\"},\"status\":\"event\"}");
	client_expect_exited(client, SIGKILL, "crash", "driver crashed");
	client_expect_closed(client, 1000, "driver crashed");
	client_free(client);

	/* oneshot: the next exec restarts the driver */
	client = client_connect(&fx, "/api/driverlab/test.driver");
	client_expect_started(client);
	client_next(client, "meta");
	client_expect_exited(client, 0, "normal", "driver exited normally");
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"crash\"}");
	client_next(client, "driver.restarted");
	client_next(client, "stdout");
	client_expect_exited(client, SIGKILL, "crash", "driver crashed");
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"echo\"}");
	client_next(client, "driver.restarted");
	client_next(client, "stdout");
	client_expect_stdout(client, "{\"code\":0,\"data\":{\"mode\":\"a\",\"opts\":{\"level\":1,"
				     "\"tag\":\"x\"}},\"status\":\"done\"}");
	g_assert_false(client->closed);
	client_free(client);
	sl_daemon_fixture_clear(&fx);
}

static void
test_rapid_crashes_func(void)
{
	SlDaemonFixture fx;
	Client *client;

	setup(&fx);
	g_setenv("STDIOLINKD_DRIVERLAB_META_TIMEOUT_MS", "60000", TRUE);
	install_script_driver(&fx, "failing", "exit 3");
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/failing");
	client_expect_started(client);
	client_expect_exited(client, 3, "normal", "driver exited normally");

	/* two quick crashes still restart */
	for (guint i = 0; i < 2; i++) {
		client_send(client, "{\"type\":\"exec\",\"cmd\":\"x\"}");
		client_next(client, "driver.restarted");
		client_expect_exited(client, 3, "normal", "driver exited normally");
	}

	/* the third in a row stops the restarts for good */
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"x\"}");
	client_expect_error(client, "driver restart suppressed: too many rapid crashes");
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"x\"}");
	client_expect_error(client, "driver restart suppressed due to rapid crashes");
	client_expect_quiet(client, 200);
	g_assert_false(client->closed);
	client_free(client);
	g_unsetenv("STDIOLINKD_DRIVERLAB_META_TIMEOUT_MS");
	sl_daemon_fixture_clear(&fx);
}

static void
test_meta_timeout_func(void)
{
	SlDaemonFixture fx;
	Client *client;

	setup(&fx);
	g_setenv("STDIOLINKD_DRIVERLAB_META_TIMEOUT_MS", "300", TRUE);
	install_script_driver(&fx, "silent", "while read -r line; do :; done");
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/silent?runMode=keepalive");
	client_expect_started(client);
	client_expect_error(client, "meta query timeout");

	/* the connection stays; the keepalive driver is still there */
	g_assert_false(client->closed);
	client_send(client, "{\"type\":\"cancel\"}");
	client_expect_exited(client, 0, "normal", "driver exited normally");
	client_expect_closed(client, 1000, "driver exited normally");
	client_free(client);
	g_unsetenv("STDIOLINKD_DRIVERLAB_META_TIMEOUT_MS");
	sl_daemon_fixture_clear(&fx);
}

static void
test_args_env_func(void)
{
	SlDaemonFixture fx;
	Client *client;

	setup(&fx);
	g_setenv("STDIOLINKD_DRIVERLAB_META_TIMEOUT_MS", "60000", TRUE);
	install_script_driver(&fx, "args",
			      "printf '{\"status\":\"done\",\"code\":0,\"data\":"
			      "{\"args\":\"%s\",\"path\":\"%s\"}}\\n' \"$*\" \"$PATH\"\n"
			      "while read -r line; do echo \"$line\"; done");
	sl_daemon_fixture_start(&fx);

	/* args: decoded, split on commas, empty items dropped, after the profile */
	client = client_connect(&fx, "/api/driverlab/args?runMode=keepalive"
				     "&args=--port%3D502,,x%20y,");
	client_expect_started(client);
	{
		JsonObject *meta = client_next(client, "meta");
		JsonObject *data = json_object_get_object_member(meta, "meta");
		g_autofree char *daemon_dir = g_path_get_dirname(g_getenv("STDIOLINKD"));
		g_autofree char *path_prefix = g_strconcat(daemon_dir, ":", NULL);

		g_assert_cmpstr(json_object_get_string_member(data, "args"), ==,
				"--profile=keepalive --port=502 x y");

		/* drivers find the daemon's programs first in PATH */
		g_assert_true(g_str_has_prefix(json_object_get_string_member(data, "path"),
					       path_prefix));
	}

	/* this driver echoes requests: exactly cmd and data, compact, no type */
	client_expect_stdout(client, "{\"cmd\":\"meta.describe\",\"data\":{}}");
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"go\",\"data\":[1]}");
	client_expect_stdout(client, "{\"cmd\":\"go\",\"data\":[1]}");
	client_send(client, "{\"type\":\"exec\",\"data\":null}");
	client_expect_stdout(client, "{\"data\":null}");
	client_free(client);
	g_unsetenv("STDIOLINKD_DRIVERLAB_META_TIMEOUT_MS");
	sl_daemon_fixture_clear(&fx);
}

static void
test_start_failure_func(void)
{
	SlDaemonFixture fx;
	Client *client;
	JsonObject *error;
	g_autofree char *exe = NULL;

	setup(&fx);
	sl_daemon_fixture_start(&fx);

	/* the program disappears after the catalogue was loaded */
	exe = sl_daemon_fixture_path(&fx, "drivers/kvstore/stdio.drv.kvstore");
	g_assert_cmpint(g_unlink(exe), ==, 0);
	client = client_connect(&fx, "/api/driverlab/demo.kvstore");
	error = client_next(client, "error");
	g_assert_true(g_str_has_prefix(json_object_get_string_member(error, "message"),
				       "driver failed to start: "));
	client_expect_closed(client, 1011, "driver start failed");
	client_free(client);
	sl_daemon_fixture_clear(&fx);
}

static void
test_overflow_func(void)
{
	SlDaemonFixture fx;
	Client *client;
	JsonObject *error;

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/test.driver?runMode=keepalive");
	client_expect_started(client);
	client_next(client, "meta");
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"flood\"}");
	error = client_next(client, "error");
	g_assert_cmpstr(json_object_get_string_member(error, "message"), ==,
			"output buffer overflow");
	g_assert_cmpstr(json_object_get_string_member(error, "channel"), ==, "stdout");
	g_assert_cmpint(json_object_get_int_member(error, "limit"), ==, 8388608);
	client_expect_exited(client, SIGKILL, "crash", "driver crashed");
	client_expect_closed(client, 1000, "driver crashed");
	client_free(client);
	sl_daemon_fixture_clear(&fx);
}

/* ---- teardown -------------------------------------------------------------------------- */

static void
test_disconnect_kills_driver_func(void)
{
	SlDaemonFixture fx;
	Client *client;
	Client *other;
	gint pid;
	gint other_pid;

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/demo.heartbeat?runMode=keepalive");
	pid = client_expect_started(client);
	client_next(client, "meta");
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"beat\","
			    "\"data\":{\"count\":1000,\"intervalMs\":20}}");
	client_next(client, "stdout");

	/* the client goes away mid-command: its driver is killed, others are not */
	other = client_connect(&fx, "/api/driverlab/demo.heartbeat?runMode=keepalive");
	other_pid = client_expect_started(other);
	client_free(client);
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_gone, GINT_TO_POINTER(pid)));
	g_assert_true(sl_daemon_fixture_pid_alive(other_pid));

	/* a connection dropped without a close frame counts too */
	g_signal_handlers_disconnect_by_data(other->ws, other);
	g_io_stream_close(soup_websocket_connection_get_io_stream(other->ws), NULL, NULL);
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_gone, GINT_TO_POINTER(other_pid)));
	client_free(other);
	sl_daemon_fixture_clear(&fx);
}

static void
test_shutdown_kills_drivers_func(void)
{
	SlDaemonFixture fx;
	Client *client;
	gint pid;

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	client = client_connect(&fx, "/api/driverlab/demo.kvstore?runMode=keepalive");
	pid = client_expect_started(client);
	client_next(client, "meta");

	/* SIGTERM to the daemon: it exits 0 and its drivers are gone */
	sl_daemon_fixture_stop(&fx);
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_gone, GINT_TO_POINTER(pid)));
	client_free(client);
	sl_daemon_fixture_clear(&fx);
}

/* ---- liveness -------------------------------------------------------------------------- */

/* a WebSocket client that never answers pings: a raw socket after the handshake */
static GSocketConnection *
silent_client_connect(SlDaemonFixture *fx, const char *path)
{
	g_autoptr(GSocketClient) socket_client = g_socket_client_new();
	g_autoptr(GUri) uri = g_uri_parse(fx->base_url, G_URI_FLAGS_NONE, NULL);
	g_autoptr(GError) error = NULL;
	g_autofree char *request = NULL;
	GSocketConnection *connection;
	GString *response = g_string_new(NULL);
	char c;

	connection = g_socket_client_connect_to_host(socket_client, "127.0.0.1",
						     (guint16)g_uri_get_port(uri), NULL, &error);
	g_assert_no_error(error);
	request = g_strdup_printf("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
				  "Upgrade: websocket\r\nConnection: Upgrade\r\n"
				  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
				  "Sec-WebSocket-Version: 13\r\n\r\n",
				  path, g_uri_get_port(uri));
	g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(connection)),
				  request, strlen(request), NULL, NULL, &error);
	g_assert_no_error(error);
	while (!g_str_has_suffix(response->str, "\r\n\r\n") &&
	       g_input_stream_read(g_io_stream_get_input_stream(G_IO_STREAM(connection)), &c,
				   1, NULL, &error) == 1)
		g_string_append_c(response, c);
	g_assert_no_error(error);
	g_assert_true(g_str_has_prefix(response->str, "HTTP/1.1 101"));
	g_string_free(response, TRUE);
	return connection;
}

/* reads frames until a close frame; returns its code, counts the pings seen */
static guint
silent_client_read_close(GSocketConnection *connection, guint *pings)
{
	GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(connection));
	g_autoptr(GError) error = NULL;

	for (;;) {
		guint8 header[2];
		guint8 extended[8];
		g_autofree guint8 *payload = NULL;
		guint64 length;
		gsize n = 0;
		guint opcode;

		g_input_stream_read_all(in, header, 2, &n, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpuint(n, ==, 2);
		opcode = header[0] & 0x0f;
		length = header[1] & 0x7f;

		/* server frames are unmasked; 126 and 127 announce 2 and 8 length bytes */
		if (length >= 126) {
			gsize size = length == 126 ? 2 : 8;

			g_input_stream_read_all(in, extended, size, &n, NULL, &error);
			g_assert_no_error(error);
			length = 0;
			for (gsize i = 0; i < size; i++)
				length = length << 8 | extended[i];
		}
		g_assert_cmpuint(length, <, 1024 * 1024);
		payload = g_malloc(length + 1);
		g_input_stream_read_all(in, payload, length, &n, NULL, &error);
		g_assert_no_error(error);
		if (opcode == 0x9)
			(*pings)++;
		if (opcode == 0x8)
			return length >= 2 ? (guint)(payload[0] << 8 | payload[1]) : 0;
	}
}

typedef struct {
	GSocketConnection *connection;
	guint close_code;
	guint pings;
	gint done;
} SilentReader;

static gpointer
silent_client_thread(gpointer data)
{
	SilentReader *reader = data;

	reader->close_code = silent_client_read_close(reader->connection, &reader->pings);
	g_atomic_int_set(&reader->done, 1);
	return NULL;
}

static void
test_pong_timeout_func(void)
{
	SlDaemonFixture fx;
	Client *client;
	GSocketConnection *silent;
	SilentReader reader = {0};
	GThread *thread;
	gint pid;

	setup(&fx);
	g_setenv("STDIOLINKD_DRIVERLAB_PING_MS", "1000", TRUE);
	g_setenv("STDIOLINKD_DRIVERLAB_PONG_TIMEOUT_MS", "2500", TRUE);
	sl_daemon_fixture_start(&fx);

	/* libsoup answers pings, as browsers do: the connection stays */
	client = client_connect(&fx, "/api/driverlab/demo.kvstore?runMode=keepalive");
	pid = client_expect_started(client);
	client_next(client, "meta");

	/*
	 * a client that never answers is dropped with 1001 and its driver killed; it reads
	 * in a thread, so that the loop here keeps answering the pings of the other client
	 */
	silent = silent_client_connect(&fx, "/api/driverlab/demo.calculator?runMode=keepalive");
	reader.connection = silent;
	thread = g_thread_new("silent-client", silent_client_thread, &reader);
	while (!g_atomic_int_get(&reader.done)) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
	g_thread_join(thread);
	g_assert_cmpuint(reader.close_code, ==, 1001);
	g_assert_cmpuint(reader.pings, >=, 1);
	g_object_unref(silent);

	spin_for(500);
	g_assert_false(client->closed);
	g_assert_true(sl_daemon_fixture_pid_alive(pid));
	client_send(client, "{\"type\":\"exec\",\"cmd\":\"list\"}");
	client_expect_stdout(client, "{\"code\":0,\"data\":{\"count\":0,\"keys\":[]},"
				     "\"status\":\"done\"}");
	client_free(client);
	g_unsetenv("STDIOLINKD_DRIVERLAB_PING_MS");
	g_unsetenv("STDIOLINKD_DRIVERLAB_PONG_TIMEOUT_MS");
	sl_daemon_fixture_clear(&fx);
}

/* ---- documentation --------------------------------------------------------------------- */

static char *
get_text(SlDaemonFixture *fx, const char *path, guint *status, char **content_type)
{
	g_autofree char *url = g_strconcat(fx->base_url, path, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) body = soup_session_send_and_read(fx->session, msg, NULL, &error);

	g_assert_no_error(error);
	*status = soup_message_get_status(msg);
	*content_type = g_strdup(soup_message_headers_get_content_type(
	    soup_message_get_response_headers(msg), NULL));
	return g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
}

static void
assert_docs(SlDaemonFixture *fx, const char *path, const char *content_type,
	    const char *prefix)
{
	guint status = 0;
	g_autofree char *type = NULL;
	g_autofree char *text = get_text(fx, path, &status, &type);

	g_assert_cmpuint(status, ==, 200);
	g_assert_cmpstr(type, ==, content_type);
	g_assert_true(g_str_has_prefix(text, prefix));
}

static void
test_docs_route_func(void)
{
	SlDaemonFixture fx;
	guint status = 0;
	g_autofree char *type = NULL;
	g_autofree char *text = NULL;
	g_autoptr(JsonNode) node = NULL;

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	assert_docs(&fx, "/api/drivers/demo.calculator/docs", "text/plain",
		    "# Calculator\n\n**Version:** 1.0.0\n");
	assert_docs(&fx, "/api/drivers/demo.calculator/docs?format=markdown", "text/plain",
		    "# Calculator\n");

	/* only html, openapi and typescript/ts differ; anything else is Markdown */
	assert_docs(&fx, "/api/drivers/demo.calculator/docs?format=swagger", "text/plain",
		    "# Calculator\n");
	assert_docs(&fx, "/api/drivers/demo.calculator/docs?format=HTML", "text/html",
		    "<!DOCTYPE html>");
	assert_docs(&fx, "/api/drivers/demo.kvstore/docs?format=ts", "text/plain",
		    "// Key-value store 1.0.0\n");
	text = get_text(&fx, "/api/drivers/demo.heartbeat/docs?format=openapi", &status, &type);
	g_assert_cmpstr(type, ==, "application/json");
	node = stdiolink_json_parse(text, -1, NULL);
	g_assert_nonnull(node);
	g_assert_true(json_object_has_member(
	    json_object_get_object_member(json_node_get_object(node), "paths"), "/beat"));

	g_clear_pointer(&node, json_node_unref);
	node = sl_daemon_fixture_request(&fx, "GET", "/api/drivers/nope/docs", NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	sl_daemon_fixture_assert_error(node, "not_found", "driver not found");
	sl_daemon_fixture_clear(&fx);
}

/* ---- the CLI --------------------------------------------------------------------------- */

typedef struct {
	int status;
	char *out;
	char *err;
} CtlRun;

static void
ctl_run_clear(CtlRun *run)
{
	g_free(run->out);
	g_free(run->err);
}

/* runs stdiolinkctl against the fixture's daemon with the NULL-terminated arguments */
static void
run_ctl(SlDaemonFixture *fx, CtlRun *run, ...)
{
	g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GError) error = NULL;
	const char *arg;
	va_list args;

	g_ptr_array_add(argv, g_strdup(g_getenv("STDIOLINKCTL")));
	g_ptr_array_add(argv, g_strconcat("--url=", fx->base_url, NULL));
	va_start(args, run);
	while ((arg = va_arg(args, const char *)) != NULL)
		g_ptr_array_add(argv, g_strdup(arg));
	va_end(args);
	g_ptr_array_add(argv, NULL);
	proc = g_subprocess_newv((const char *const *)argv->pdata,
				 G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
				 &error);
	g_assert_no_error(error);
	g_subprocess_communicate_utf8(proc, NULL, NULL, &run->out, &run->err, &error);
	g_assert_no_error(error);
	run->status = g_subprocess_get_exit_status(proc);
}

static void
test_cli_exec_func(void)
{
	SlDaemonFixture fx;
	CtlRun run;

	setup(&fx);
	sl_daemon_fixture_start(&fx);

	/* the demo drivers are in the catalogue */
	run_ctl(&fx, &run, "drivers", "list", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_nonnull(strstr(run.out, "demo.calculator  Calculator"));
	g_assert_nonnull(strstr(run.out, "demo.heartbeat"));
	g_assert_nonnull(strstr(run.out, "demo.kvstore"));
	ctl_run_clear(&run);

	/* key=value arguments: JSON literals, else text */
	run_ctl(&fx, &run, "driver", "exec", "demo.calculator", "add", "a=1", "b=2.5", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpstr(run.out, ==, "{\n    \"result\": 3.5\n}\n");
	ctl_run_clear(&run);

	/* events as they come, then the result */
	run_ctl(&fx, &run, "driver", "exec", "demo.heartbeat", "beat", "--data",
		"{\"count\":2,\"label\":\"x\"}", "intervalMs=5", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpstr(run.out, ==,
			"[beat] {\"label\":\"x\",\"n\":1,\"of\":2}\n"
			"[beat] {\"label\":\"x\",\"n\":2,\"of\":2}\n"
			"{\n    \"beats\": 2\n}\n");
	ctl_run_clear(&run);

	/* --json: the driver's response lines */
	run_ctl(&fx, &run, "--json", "driver", "exec", "demo.kvstore", "set", "key=k",
		"value.n=[1]", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_cmpstr(run.out, ==,
			"{\"code\":0,\"data\":{\"created\":true,\"key\":\"k\"},"
			"\"status\":\"done\"}\n");
	ctl_run_clear(&run);

	/* an error answer exits 1 with the driver's message */
	run_ctl(&fx, &run, "driver", "exec", "demo.calculator", "divide", "a=1", "b=0", NULL);
	g_assert_cmpint(run.status, ==, 1);
	g_assert_cmpstr(run.out, ==, "");
	g_assert_nonnull(strstr(run.err, "the driver answered error 1: division by zero"));
	ctl_run_clear(&run);

	/* a driver that dies mid-command */
	run_ctl(&fx, &run, "driver", "exec", "test.driver", "crash", NULL);
	g_assert_cmpint(run.status, ==, 1);
	g_assert_nonnull(strstr(run.err, "driver crashed"));
	ctl_run_clear(&run);

	run_ctl(&fx, &run, "driver", "exec", "nope", "x", NULL);
	g_assert_cmpint(run.status, ==, 1);
	g_assert_nonnull(strstr(run.err, "driver \u201cnope\u201d not found"));
	ctl_run_clear(&run);

	run_ctl(&fx, &run, "driver", "exec", "demo.calculator", "add", "a", NULL);
	g_assert_cmpint(run.status, ==, 2);
	ctl_run_clear(&run);
	run_ctl(&fx, &run, "driver", "exec", "demo.calculator", "add", "--data", "[1]", NULL);
	g_assert_cmpint(run.status, ==, 2);
	ctl_run_clear(&run);

	/* drivers meta: the normalized meta, indented or as one JSON document */
	run_ctl(&fx, &run, "--json", "drivers", "meta", "demo.heartbeat", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_true(g_str_has_prefix(run.out, "{\"commands\":[{\"description\""));
	g_assert_true(g_str_has_suffix(run.out, "}\n"));
	ctl_run_clear(&run);
	run_ctl(&fx, &run, "drivers", "meta", "nope", NULL);
	g_assert_cmpint(run.status, ==, 1);
	ctl_run_clear(&run);

	/* drivers docs: Markdown, or the format named */
	run_ctl(&fx, &run, "drivers", "docs", "demo.calculator", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_true(g_str_has_prefix(run.out, "# Calculator\n"));
	ctl_run_clear(&run);
	run_ctl(&fx, &run, "drivers", "docs", "demo.kvstore", "ts", NULL);
	g_assert_cmpint(run.status, ==, 0);
	g_assert_nonnull(strstr(run.out, "export interface Commands {"));
	ctl_run_clear(&run);
	run_ctl(&fx, &run, "drivers", "docs", "nope", NULL);
	g_assert_cmpint(run.status, ==, 1);
	g_assert_nonnull(strstr(run.err, "driver not found"));
	ctl_run_clear(&run);

	/* the daemon is unreachable: exit 3 */
	sl_daemon_fixture_stop(&fx);
	run_ctl(&fx, &run, "driver", "exec", "demo.calculator", "add", NULL);
	g_assert_cmpint(run.status, ==, 3);
	ctl_run_clear(&run);
	sl_daemon_fixture_clear(&fx);
}

/* the status of an upgrade with one extra request header */
static guint
upgrade_status(SlDaemonFixture *fx, const char *path, const char *header, const char *value)
{
	g_autoptr(SoupMessage) msg = send_upgrade(fx, path, header, value, NULL);

	return soup_message_get_status(msg);
}

/*
 * With an API token the WebSocket needs it too (in the query, as browsers cannot set
 * headers on it); a rebinding Host and a foreign Origin are refused before the upgrade.
 */
static void
test_upgrade_access_func(void)
{
	SlDaemonFixture fx;
	const char *path = "/api/driverlab/demo.calculator?access_token=w5-token";
	g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func((GDestroyNotify)client_free);
	Client *client;
	guint status = 0;
	g_autoptr(JsonNode) status_node = NULL;

	setup(&fx);
	sl_daemon_fixture_write(&fx, "token.txt", "w5-token");
	sl_daemon_fixture_write(&fx, "config.json", "{\"tokenFile\":\"token.txt\"}");
	sl_daemon_fixture_start(&fx);

	g_assert_cmpuint(upgrade_status(&fx, "/api/driverlab/demo.calculator", NULL, NULL), ==,
			 401);
	g_assert_cmpuint(upgrade_status(&fx, path, "Host", "evil.example"), ==, 421);
	g_assert_cmpuint(upgrade_status(&fx, path, "Origin", "http://evil.example"), ==, 403);

	client = client_connect(&fx, path);
	g_ptr_array_add(clients, client);
	g_assert_cmpuint(client->status, ==, 101);

	status_node = sl_daemon_fixture_request(&fx, "GET",
						"/api/server/status?access_token=w5-token", NULL,
						&status);
	g_assert_cmpuint(status, ==, 200);
	g_clear_pointer(&clients, g_ptr_array_unref);
	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/driverlab/upgrade-checks", test_upgrade_checks_func);
	g_test_add_func("/driverlab/upgrade-access", test_upgrade_access_func);
	g_test_add_func("/driverlab/oneshot-session", test_oneshot_session_func);
	g_test_add_func("/driverlab/keepalive-session", test_keepalive_session_func);
	g_test_add_func("/driverlab/events", test_events_func);
	g_test_add_func("/driverlab/client-errors", test_client_errors_func);
	g_test_add_func("/driverlab/raw-stdout", test_raw_stdout_func);
	g_test_add_func("/driverlab/crash-mid-command", test_crash_mid_command_func);
	g_test_add_func("/driverlab/rapid-crashes", test_rapid_crashes_func);
	g_test_add_func("/driverlab/meta-timeout", test_meta_timeout_func);
	g_test_add_func("/driverlab/args-and-environment", test_args_env_func);
	g_test_add_func("/driverlab/start-failure", test_start_failure_func);
	g_test_add_func("/driverlab/overflow", test_overflow_func);
	g_test_add_func("/driverlab/disconnect-kills-driver", test_disconnect_kills_driver_func);
	g_test_add_func("/driverlab/shutdown-kills-drivers", test_shutdown_kills_drivers_func);
	g_test_add_func("/driverlab/pong-timeout", test_pong_timeout_func);
	g_test_add_func("/driverlab/docs-route", test_docs_route_func);
	g_test_add_func("/driverlab/cli-exec", test_cli_exec_func);
	return g_test_run();
}

#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <glib/gstdio.h>

#include "sl-daemon-fixture.h"
#include "sl-test-utils.h"

/*
 * Log tails, process trees, the SSE stream and the event query, through a real daemon.
 * SSE clients are plain sockets, so a test can read the exact bytes, read late, or never.
 */

#define SOCKET_TIMEOUT_S  20
#define SLOW_RUNS_LIMIT	  400
#define LONG_PROJECT_LEN  200
/* events.md 2.4 */
#define SSE_MAX_STREAMS	  32

static const char *test_schema =
    "{\"exitCode\":{\"type\":\"int\",\"default\":0},"
    "\"sleepMs\":{\"type\":\"int\",\"default\":0,\"constraints\":{\"min\":0}},"
    "\"spawnChild\":{\"type\":\"string\"},"
    "\"stdout\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}}}";

static JsonObject *
object_of(JsonNode *node)
{
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_node_get_object(node);
}

static JsonNode *
get(SlDaemonFixture *fx, const char *path, guint expected_status)
{
	guint status = 0;
	JsonNode *node = sl_daemon_fixture_request(fx, "GET", path, NULL, &status);

	if (status != expected_status)
		g_error("GET %s: status %u, expected %u", path, status, expected_status);
	return node;
}

static void
assert_get_error(SlDaemonFixture *fx,
		 const char *path,
		 guint expected_status,
		 const char *code,
		 const char *message)
{
	g_autoptr(JsonNode) node = get(fx, path, expected_status);

	sl_daemon_fixture_assert_error(node, code, message);
}

static void
setup(SlDaemonFixture *fx)
{
	sl_daemon_fixture_init(fx);
	sl_daemon_fixture_add_test_service(fx, "svc", test_schema);
	sl_daemon_fixture_add_project(fx, "quick", "svc", NULL, "{}");
	sl_daemon_fixture_add_project(fx, "quick2", "svc", NULL, "{}");
}

/* a native service whose entry cannot be executed: every start fails */
static void
add_broken_service(SlDaemonFixture *fx)
{
	g_autofree char *entry = NULL;

	sl_daemon_fixture_write(fx, "services/broken/manifest.json",
				"{\"manifestVersion\":\"1\",\"id\":\"broken\",\"name\":\"Broken\","
				"\"version\":\"1.0\",\"runtime\":\"exec\",\"entry\":\"run\"}");
	sl_daemon_fixture_write(fx, "services/broken/config.schema.json", "{}");
	sl_daemon_fixture_write(fx, "services/broken/run", "#!/nonexistent/interpreter\n");
	entry = sl_daemon_fixture_path(fx, "services/broken/run");
	g_assert_cmpint(g_chmod(entry, 0755), ==, 0);
	sl_daemon_fixture_add_project(fx, "broken", "broken", NULL, "{}");
}

static gboolean
no_instances_cb(SlDaemonFixture *fx, gpointer data)
{
	return sl_daemon_fixture_count_instances(fx, data) == 0;
}

/* starts a manual project once its previous run is gone; returns the instance id */
static char *
run_project(SlDaemonFixture *fx, const char *id)
{
	g_autofree char *path = g_strdup_printf("/api/projects/%s/start", id);
	guint status = 0;
	g_autoptr(JsonNode) node = NULL;

	g_assert_true(sl_daemon_fixture_wait(fx, no_instances_cb, (gpointer)id));
	node = sl_daemon_fixture_request(fx, "POST", path, NULL, &status);
	g_assert_cmpuint(status, ==, 202);
	return g_strdup(json_object_get_string_member(object_of(node), "instanceId"));
}

/* ---- a raw SSE client ------------------------------------------------------------------- */

typedef struct {
	GSocket *socket;
	char *headers;
	GString *raw;  /* bytes after the headers, still chunk-encoded */
	gsize raw_pos;
	GString *body; /* decoded */
	gsize body_pos;
	gboolean eof;
	guint heartbeats;
} SseClient;

typedef struct {
	char *type;
	JsonNode *data;
} SseEvent;

static void
sse_event_free(SseEvent *event)
{
	g_free(event->type);
	json_node_unref(event->data);
	g_free(event);
}

static const char *
event_instance(SseEvent *event)
{
	return stdiolink_json_object_get_string(object_of(event->data), "instanceId");
}

static guint
fixture_port(SlDaemonFixture *fx)
{
	g_autoptr(GUri) uri = g_uri_parse(fx->base_url, G_URI_FLAGS_NONE, NULL);

	g_assert_nonnull(uri);
	return (guint)g_uri_get_port(uri);
}

/* reads what is there; FALSE at the end of the connection */
static gboolean
sse_receive(SseClient *c)
{
	char buf[4096];
	g_autoptr(GError) error = NULL;
	gssize n = g_socket_receive(c->socket, buf, sizeof(buf), NULL, &error);

	if (n < 0)
		g_assert_true(g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
			      g_error_matches(error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE));
	if (n <= 0) {
		c->eof = TRUE;
		return FALSE;
	}
	g_string_append_len(c->raw, buf, n);
	return TRUE;
}

static SseClient *
sse_connect(SlDaemonFixture *fx, const char *query, gint receive_buffer)
{
	guint port = fixture_port(fx);
	g_autoptr(GSocketAddress) address = g_inet_socket_address_new_from_string("127.0.0.1",
										   port);
	g_autofree char *request = g_strdup_printf(
	    "GET /api/events/stream%s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n", query, port);
	g_autoptr(GError) error = NULL;
	SseClient *c = g_new0(SseClient, 1);
	gsize sent = 0;

	c->raw = g_string_new(NULL);
	c->body = g_string_new(NULL);
	c->socket = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
				 G_SOCKET_PROTOCOL_TCP, &error);
	g_assert_no_error(error);
	g_socket_set_timeout(c->socket, SOCKET_TIMEOUT_S);

	/* a small window before connecting, so that a client that never reads fills up soon */
	if (receive_buffer > 0) {
		g_socket_set_option(c->socket, SOL_SOCKET, SO_RCVBUF, receive_buffer, &error);
		g_assert_no_error(error);
	}
	g_socket_connect(c->socket, address, NULL, &error);
	g_assert_no_error(error);
	while (sent < strlen(request)) {
		gssize n = g_socket_send(c->socket, request + sent, strlen(request) - sent, NULL,
					 &error);

		g_assert_no_error(error);
		sent += (gsize)n;
	}
	return c;
}

/* the daemon registers a stream before it writes the headers */
static void
sse_read_headers(SseClient *c)
{
	char *end;

	while ((end = strstr(c->raw->str, "\r\n\r\n")) == NULL)
		g_assert_true(sse_receive(c));
	c->headers = g_strndup(c->raw->str, end + 4 - c->raw->str);
	g_string_erase(c->raw, 0, end + 4 - c->raw->str);
}

static SseClient *
sse_open(SlDaemonFixture *fx, const char *query)
{
	SseClient *c = sse_connect(fx, query, 0);

	sse_read_headers(c);
	g_assert_true(g_str_has_prefix(c->headers, "HTTP/1.1 200 OK\r\n"));
	return c;
}

static void
sse_close(SseClient *c)
{
	g_socket_close(c->socket, NULL);
	g_object_unref(c->socket);
	g_string_free(c->raw, TRUE);
	g_string_free(c->body, TRUE);
	g_free(c->headers);
	g_free(c);
}

static void
sse_decode(SseClient *c)
{
	for (;;) {
		const char *start = c->raw->str + c->raw_pos;
		const char *crlf = strstr(start, "\r\n");
		gsize size, header;

		if (crlf == NULL)
			return;
		size = strtoul(start, NULL, 16);
		header = (gsize)(crlf + 2 - start);
		if (c->raw->len - c->raw_pos < header + size + 2)
			return;
		g_assert_cmpuint(size, >, 0);
		g_assert_cmpint(memcmp(start + header + size, "\r\n", 2), ==, 0);
		g_string_append_len(c->body, start + header, (gssize)size);
		c->raw_pos += header + size + 2;
	}
}

/* the next `...\n\n` frame, or NULL at the end of the stream */
static char *
sse_next_frame(SseClient *c)
{
	for (;;) {
		const char *start = c->body->str + c->body_pos;
		const char *end = strstr(start, "\n\n");

		if (end != NULL) {
			c->body_pos += (gsize)(end + 2 - start);
			return g_strndup(start, end - start);
		}
		if (!sse_receive(c))
			return NULL;
		sse_decode(c);
	}
}

/* the next event, heartbeats counted and skipped; NULL at the end of the stream */
static SseEvent *
sse_next_event(SseClient *c)
{
	for (;;) {
		g_autofree char *frame = sse_next_frame(c);
		g_auto(GStrv) lines = NULL;
		SseEvent *event;

		if (frame == NULL)
			return NULL;
		if (g_str_equal(frame, ": heartbeat")) {
			c->heartbeats++;
			continue;
		}

		/* exactly `event: <type>\ndata: <compact json>` */
		lines = g_strsplit(frame, "\n", -1);
		g_assert_cmpuint(g_strv_length(lines), ==, 2);
		g_assert_true(g_str_has_prefix(lines[0], "event: "));
		g_assert_true(g_str_has_prefix(lines[1], "data: {"));
		event = g_new0(SseEvent, 1);
		event->type = g_strdup(lines[0] + strlen("event: "));
		event->data = stdiolink_json_parse(lines[1] + strlen("data: "), -1, NULL);
		g_assert_nonnull(event->data);
		return event;
	}
}

/* reads events up to and including @type of @instance_id; returns them all, in order */
static GPtrArray *
sse_read_until(SseClient *c, const char *type, const char *instance_id)
{
	GPtrArray *events = g_ptr_array_new_with_free_func((GDestroyNotify)sse_event_free);

	for (;;) {
		SseEvent *event = sse_next_event(c);

		if (event == NULL)
			g_error("the stream ended before %s of %s", type, instance_id);
		g_ptr_array_add(events, event);
		if (g_str_equal(event->type, type) &&
		    g_strcmp0(event_instance(event), instance_id) == 0)
			return events;
	}
}

static void
assert_types(GPtrArray *events, const char *const *expected)
{
	guint n = g_strv_length((char **)expected);

	g_assert_cmpuint(events->len, ==, n);
	for (guint i = 0; i < n; i++)
		g_assert_cmpstr(((SseEvent *)events->pdata[i])->type, ==, expected[i]);
}

static gboolean
sse_was_reset(SseClient *c)
{
	return g_socket_condition_check(c->socket, G_IO_ERR | G_IO_HUP) != 0;
}

/* ---- logs -------------------------------------------------------------------------------- */

static JsonArray *
lines_of(JsonNode *node)
{
	return json_object_get_array_member(object_of(node), "lines");
}

static void
write_numbered_log(SlDaemonFixture *fx, const char *name, guint n)
{
	GString *text = g_string_new(NULL);

	for (guint i = 0; i < n; i++)
		g_string_append_printf(text, "line %u\n", i);
	sl_daemon_fixture_write(fx, name, text->str);
	g_string_free(text, TRUE);
}

static void
test_project_logs_func(void)
{
	SlDaemonFixture fx;
	JsonNode *node;
	JsonArray *lines;
	g_autofree char *log_path = NULL;

	setup(&fx);
	sl_daemon_fixture_write(&fx, "logs/quick.log", "a\n\n  b  \r\nc\n");
	write_numbered_log(&fx, "logs/quick2.log", 6000);
	sl_daemon_fixture_add_project(&fx, "nolog", "svc", NULL, "{}");
	sl_daemon_fixture_start(&fx);

	node = get(&fx, "/api/projects/quick/logs", 200);
	log_path = sl_daemon_fixture_path(&fx, "logs/quick.log");
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "projectId"), ==, "quick");
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "logPath"), ==, log_path);
	lines = lines_of(node);
	g_assert_cmpuint(json_array_get_length(lines), ==, 3);
	g_assert_cmpstr(json_array_get_string_element(lines, 0), ==, "a");
	g_assert_cmpstr(json_array_get_string_element(lines, 1), ==, "b");
	g_assert_cmpstr(json_array_get_string_element(lines, 2), ==, "c");
	json_node_unref(node);

	node = get(&fx, "/api/projects/quick/logs?lines=2", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 2);
	g_assert_cmpstr(json_array_get_string_element(lines_of(node), 0), ==, "b");
	json_node_unref(node);

	/* below 1 and not a number: the default 100; above 5000: 5000 */
	node = get(&fx, "/api/projects/quick2/logs", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 100);
	g_assert_cmpstr(json_array_get_string_element(lines_of(node), 99), ==, "line 5999");
	json_node_unref(node);
	node = get(&fx, "/api/projects/quick2/logs?lines=0", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 100);
	json_node_unref(node);
	node = get(&fx, "/api/projects/quick2/logs?lines=-3", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 100);
	json_node_unref(node);
	node = get(&fx, "/api/projects/quick2/logs?lines=abc", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 100);
	json_node_unref(node);
	node = get(&fx, "/api/projects/quick2/logs?lines=99999", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 5000);
	g_assert_cmpstr(json_array_get_string_element(lines_of(node), 0), ==, "line 1000");
	json_node_unref(node);
	node = get(&fx, "/api/projects/quick2/logs?lines=%2B7", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 7);
	json_node_unref(node);

	/* a project that never wrote a log has an empty one */
	node = get(&fx, "/api/projects/nolog/logs", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 0);
	g_assert_true(g_str_has_suffix(json_object_get_string_member(object_of(node), "logPath"),
				       "/logs/nolog.log"));
	json_node_unref(node);

	assert_get_error(&fx, "/api/projects/ghost/logs", 404, "not_found", "project not found");
	sl_daemon_fixture_clear(&fx);
}

static gboolean
log_has_hello_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, "logs/sleeper.log");
	g_autofree char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) && strstr(text, "| hello") != NULL;
}

static void
test_instance_logs_func(void)
{
	SlDaemonFixture fx;
	JsonNode *node;
	g_autofree char *instance_id = NULL;
	g_autofree char *path = NULL;
	JsonArray *lines;
	gboolean found = FALSE;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "sleeper", "svc", NULL,
				      "{\"sleepMs\":60000,\"stdout\":[\"hello\"]}");
	sl_daemon_fixture_write(&fx, "logs/quick.log", "a\n\n  b  \r\nc\n");
	sl_daemon_fixture_start(&fx);

	/* out of range is refused, unlike the project route which clamps */
	assert_get_error(&fx, "/api/instances/quick/logs?lines=0", 400, "bad_request",
			 "lines out of range");
	assert_get_error(&fx, "/api/instances/quick/logs?lines=-0", 400, "bad_request",
			 "lines out of range");
	assert_get_error(&fx, "/api/instances/quick/logs?lines=5001", 400, "bad_request",
			 "lines out of range");

	/* a project id is taken when no instance has the id; no logPath here */
	node = get(&fx, "/api/instances/quick/logs", 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "projectId"), ==, "quick");
	g_assert_false(json_object_has_member(object_of(node), "logPath"));
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 3);
	json_node_unref(node);
	node = get(&fx, "/api/instances/quick/logs?lines=abc", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 3);
	json_node_unref(node);
	node = get(&fx, "/api/instances/quick/logs?lines=5000", 200);
	g_assert_cmpuint(json_array_get_length(lines_of(node)), ==, 3);
	json_node_unref(node);
	node = get(&fx, "/api/instances/quick/logs?lines=1", 200);
	g_assert_cmpstr(json_array_get_string_element(lines_of(node), 0), ==, "c");
	json_node_unref(node);

	assert_get_error(&fx, "/api/instances/quick2/logs", 404, "not_found",
			 "log file not found");
	assert_get_error(&fx, "/api/instances/inst_00000000/logs", 404, "not_found",
			 "instance not found");

	/* a running instance: its project's log */
	instance_id = run_project(&fx, "sleeper");
	g_assert_true(sl_daemon_fixture_wait(&fx, log_has_hello_cb, NULL));
	path = g_strdup_printf("/api/instances/%s/logs?lines=10", instance_id);
	node = get(&fx, path, 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "projectId"), ==,
			"sleeper");
	lines = lines_of(node);
	for (guint i = 0; i < json_array_get_length(lines); i++)
		found |= g_str_has_suffix(json_array_get_string_element(lines, i), "| hello");
	g_assert_true(found);
	json_node_unref(node);

	sl_daemon_fixture_clear(&fx);
}

/* ---- processes --------------------------------------------------------------------------- */

static gboolean
pid_file_written_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *text = NULL;

	return g_file_get_contents(data, &text, NULL, NULL) && *text != '\0';
}

static gboolean
instance_running_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *path = g_strdup_printf("/api/instances/%s", (const char *)data);
	guint status = 0;
	g_autoptr(JsonNode) node = sl_daemon_fixture_request(fx, "GET", path, NULL, &status);

	return status == 200 && g_strcmp0(stdiolink_json_object_get_string(object_of(node),
									   "status"),
					  "running") == 0;
}

static gint64
instance_pid(SlDaemonFixture *fx, const char *instance_id)
{
	g_autofree char *path = g_strdup_printf("/api/instances/%s", instance_id);
	g_autoptr(JsonNode) node = get(fx, path, 200);

	return json_object_get_int_member(object_of(node), "pid");
}

static void
test_process_routes_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *pid_path = NULL;
	g_autofree char *params = NULL;
	g_autofree char *instance_id = NULL;
	g_autofree char *pid_text = NULL;
	g_autofree char *path = NULL;
	JsonNode *node;
	JsonObject *root, *tree, *child;
	JsonArray *children, *processes;
	gint64 pid, child_pid;

	setup(&fx);
	pid_path = sl_daemon_fixture_path(&fx, "child.pid");
	params = g_strdup_printf("{\"sleepMs\":60000,\"spawnChild\":\"%s\"}", pid_path);
	sl_daemon_fixture_add_project(&fx, "sleeper", "svc", NULL, params);
	sl_daemon_fixture_start(&fx);

	assert_get_error(&fx, "/api/instances/inst_00000000/process-tree", 404, "not_found",
			 "instance not found");
	assert_get_error(&fx, "/api/instances/inst_00000000/resources", 404, "not_found",
			 "instance not found");

	instance_id = run_project(&fx, "sleeper");
	g_assert_true(sl_daemon_fixture_wait(&fx, instance_running_cb, instance_id));
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_file_written_cb, pid_path));
	g_assert_true(g_file_get_contents(pid_path, &pid_text, NULL, NULL));
	child_pid = g_ascii_strtoll(pid_text, NULL, 10);
	pid = instance_pid(&fx, instance_id);
	g_assert_cmpint(pid, >, 0);

	path = g_strdup_printf("/api/instances/%s/process-tree", instance_id);
	node = get(&fx, path, 200);
	root = object_of(node);
	g_assert_cmpstr(json_object_get_string_member(root, "instanceId"), ==, instance_id);
	g_assert_cmpint(json_object_get_int_member(root, "rootPid"), ==, pid);
	tree = json_object_get_object_member(root, "tree");
	g_assert_cmpint(json_object_get_int_member(tree, "pid"), ==, pid);
	g_assert_cmpstr(json_object_get_string_member(tree, "name"), ==, "run");
	g_assert_nonnull(strstr(json_object_get_string_member(tree, "commandLine"),
				"--config-file="));
	g_assert_true(json_object_has_member(tree, "startedAt"));
	g_assert_true(json_object_has_member(json_object_get_object_member(tree, "resources"),
					     "memoryRssBytes"));
	children = json_object_get_array_member(tree, "children");
	g_assert_cmpuint(json_array_get_length(children), ==, 1);
	child = json_array_get_object_element(children, 0);
	g_assert_cmpint(json_object_get_int_member(child, "pid"), ==, child_pid);
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(root, "summary"),
						   "totalProcesses"),
			==, 2);
	json_node_unref(node);
	g_free(path);

	path = g_strdup_printf("/api/instances/%s/resources", instance_id);
	node = get(&fx, path, 200);
	root = object_of(node);
	g_assert_cmpstr(json_object_get_string_member(root, "instanceId"), ==, instance_id);
	g_assert_true(json_object_has_member(root, "timestamp"));
	processes = json_object_get_array_member(root, "processes");
	g_assert_cmpuint(json_array_get_length(processes), ==, 2);
	g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(processes, 0),
						   "pid"), ==, pid);
	child = json_array_get_object_element(processes, 1);
	g_assert_cmpint(json_object_get_int_member(child, "pid"), ==, child_pid);
	g_assert_cmpint(json_object_get_int_member(child, "parentPid"), ==, pid);
	g_assert_true(json_object_has_member(child, "ioReadBytes"));
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(root, "summary"),
						   "totalProcesses"),
			==, 2);
	json_node_unref(node);
	g_free(path);

	/* only the exact `false` leaves the children out */
	path = g_strdup_printf("/api/instances/%s/resources?includeChildren=false", instance_id);
	node = get(&fx, path, 200);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(object_of(node),
									  "processes")), ==, 1);
	json_node_unref(node);
	g_free(path);
	path = g_strdup_printf("/api/instances/%s/resources?includeChildren=no", instance_id);
	node = get(&fx, path, 200);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(object_of(node),
									  "processes")), ==, 2);
	json_node_unref(node);

	sl_daemon_fixture_clear(&fx);
}

/* ---- SSE --------------------------------------------------------------------------------- */

static void
test_sse_order_func(void)
{
	SlDaemonFixture fx;
	SseClient *c;
	g_autofree char *instance_id = NULL;
	g_autoptr(GPtrArray) events = NULL;
	JsonObject *data;

	setup(&fx);
	sl_daemon_fixture_start(&fx);

	c = sse_open(&fx, "");
	g_assert_nonnull(strstr(c->headers, "\r\nContent-Type: text/event-stream\r\n"));
	g_assert_nonnull(strstr(c->headers, "\r\nCache-Control: no-cache\r\n"));
	g_assert_nonnull(strstr(c->headers, "\r\nX-Accel-Buffering: no\r\n"));
	g_assert_nonnull(strstr(c->headers, "\r\nTransfer-Encoding: chunked\r\n"));

	instance_id = run_project(&fx, "quick");
	events = sse_read_until(c, "instance.finished", instance_id);
	assert_types(events, (const char *const[]){"instance.started", "instance.finished", NULL});

	/* no bytes came before the first event */
	g_assert_true(g_str_has_prefix(c->body->str, "event: instance.started\ndata: {"));
	data = object_of(((SseEvent *)events->pdata[0])->data);
	g_assert_cmpstr(stdiolink_json_object_get_string(data, "instanceId"), ==, instance_id);
	g_assert_cmpstr(stdiolink_json_object_get_string(data, "projectId"), ==, "quick");
	g_assert_cmpint(json_object_get_int_member(data, "pid"), >, 0);
	data = object_of(((SseEvent *)events->pdata[1])->data);
	g_assert_cmpint(json_object_get_int_member(data, "exitCode"), ==, 0);
	g_assert_cmpstr(stdiolink_json_object_get_string(data, "status"), ==, "normal");

	sse_close(c);
	sl_daemon_fixture_clear(&fx);
}

static void
test_sse_filter_func(void)
{
	SlDaemonFixture fx;
	SseClient *finished, *starts, *failed, *spaces, *empty, *all;
	g_autofree char *quick = NULL;
	g_autofree char *broken = NULL;
	g_autoptr(GPtrArray) events = NULL;
	const char *const every[] = {"instance.started", "instance.finished",
				     "instance.startFailed", "instance.finished", NULL};

	setup(&fx);
	add_broken_service(&fx);
	sl_daemon_fixture_start(&fx);

	finished = sse_open(&fx, "?filter=instance.fin");
	starts = sse_open(&fx, "?filter=%20instance.s%20,,nomatch");
	failed = sse_open(&fx, "?filter=instance.startF");
	spaces = sse_open(&fx, "?filter=%20%20");
	empty = sse_open(&fx, "?filter=,,");
	all = sse_open(&fx, "");

	/* a normal run, then one that fails to start: its finish is the last event of all */
	quick = run_project(&fx, "quick");
	events = sse_read_until(all, "instance.finished", quick);
	assert_types(events, (const char *const[]){"instance.started", "instance.finished", NULL});
	g_clear_pointer(&events, g_ptr_array_unref);
	broken = run_project(&fx, "broken");
	events = sse_read_until(all, "instance.finished", broken);
	assert_types(events,
		     (const char *const[]){"instance.startFailed", "instance.finished", NULL});
	g_clear_pointer(&events, g_ptr_array_unref);

	events = sse_read_until(finished, "instance.finished", broken);
	assert_types(events, (const char *const[]){"instance.finished", "instance.finished", NULL});
	g_assert_cmpstr(event_instance(events->pdata[0]), ==, quick);
	g_assert_cmpstr(event_instance(events->pdata[1]), ==, broken);
	g_clear_pointer(&events, g_ptr_array_unref);

	events = sse_read_until(starts, "instance.startFailed", broken);
	assert_types(events,
		     (const char *const[]){"instance.started", "instance.startFailed", NULL});
	g_clear_pointer(&events, g_ptr_array_unref);

	events = sse_read_until(failed, "instance.startFailed", broken);
	assert_types(events, (const char *const[]){"instance.startFailed", NULL});
	g_clear_pointer(&events, g_ptr_array_unref);

	events = sse_read_until(spaces, "instance.finished", broken);
	assert_types(events, every);
	g_clear_pointer(&events, g_ptr_array_unref);
	events = sse_read_until(empty, "instance.finished", broken);
	assert_types(events, every);

	sse_close(finished);
	sse_close(starts);
	sse_close(failed);
	sse_close(spaces);
	sse_close(empty);
	sse_close(all);
	sl_daemon_fixture_clear(&fx);
}

static void
test_sse_heartbeat_func(void)
{
	SlDaemonFixture fx;
	SseClient *c;
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;

	setup(&fx);
	g_setenv("STDIOLINKD_SSE_HEARTBEAT_MS", "100", TRUE);
	sl_daemon_fixture_start(&fx);
	g_unsetenv("STDIOLINKD_SSE_HEARTBEAT_MS");

	/* a stream that matches nothing still gets heartbeats, and nothing else */
	c = sse_open(&fx, "?filter=nomatch");
	first = sse_next_frame(c);
	second = sse_next_frame(c);
	g_assert_cmpstr(first, ==, ": heartbeat");
	g_assert_cmpstr(second, ==, ": heartbeat");
	g_assert_true(g_str_has_prefix(c->body->str, ": heartbeat\n\n: heartbeat\n\n"));

	sse_close(c);
	sl_daemon_fixture_clear(&fx);
}

/*
 * A client that never reads must not hold up the daemon or the other clients: each run's
 * events reach the reading client before the next run starts, and the silent one is
 * reset once its queue passes the limit.
 */
static void
test_sse_slow_client_func(void)
{
	SlDaemonFixture fx;
	SseClient *silent, *reader;
	g_autofree char *project = g_strnfill(LONG_PROJECT_LEN, 'x');
	gboolean reset = FALSE;
	guint runs = 0;

	/* long ids make big events, so the silent client falls behind in fewer runs */
	setup(&fx);
	memcpy(project, "slow", 4);
	sl_daemon_fixture_add_project(&fx, project, "svc", NULL, "{}");
	g_setenv("STDIOLINKD_SSE_MAX_PENDING_BYTES", "4096", TRUE);
	sl_daemon_fixture_start(&fx);
	g_unsetenv("STDIOLINKD_SSE_MAX_PENDING_BYTES");

	silent = sse_connect(&fx, "", 1024);
	sse_read_headers(silent);
	reader = sse_open(&fx, "");

	while (!reset && runs < SLOW_RUNS_LIMIT) {
		g_autofree char *instance_id = run_project(&fx, project);
		g_autoptr(GPtrArray) events = sse_read_until(reader, "instance.finished",
							     instance_id);

		assert_types(events,
			     (const char *const[]){"instance.started", "instance.finished", NULL});
		g_assert_cmpstr(event_instance(events->pdata[0]), ==, instance_id);
		runs++;
		reset = sse_was_reset(silent);
	}
	g_test_message("silent client reset after %u runs", runs);
	g_assert_true(reset);

	/* the others go on as before */
	for (guint i = 0; i < 2; i++) {
		g_autofree char *instance_id = run_project(&fx, project);
		g_autoptr(GPtrArray) events = sse_read_until(reader, "instance.finished",
							     instance_id);

		assert_types(events,
			     (const char *const[]){"instance.started", "instance.finished", NULL});
	}

	sse_close(silent);
	sse_close(reader);
	sl_daemon_fixture_clear(&fx);
}

static void
assert_ended(SseClient *c)
{
	while (sse_receive(c))
		;
	g_assert_true(c->eof);
}

static void
assert_gets_run(SseClient *c, const char *instance_id)
{
	g_autoptr(GPtrArray) events = sse_read_until(c, "instance.finished", instance_id);

	g_assert_cmpuint(events->len, >=, 2);
}

static void
test_sse_limit_func(void)
{
	SlDaemonFixture fx;
	SseClient *streams[SSE_MAX_STREAMS + 3] = {NULL};
	g_autofree char *first_run = NULL;
	g_autofree char *second_run = NULL;
	g_autoptr(JsonNode) status = NULL;

	setup(&fx);
	sl_daemon_fixture_start(&fx);

	/* the 33rd stream evicts the first */
	for (guint i = 0; i <= SSE_MAX_STREAMS; i++)
		streams[i] = sse_open(&fx, "");
	assert_ended(streams[0]);
	first_run = run_project(&fx, "quick");
	assert_gets_run(streams[1], first_run);
	assert_gets_run(streams[SSE_MAX_STREAMS], first_run);

	/*
	 * A client that leaves frees its place at once: the next stream evicts nobody. (The
	 * status request is answered after the daemon saw the close, which came first.)
	 */
	sse_close(streams[5]);
	streams[5] = NULL;
	status = get(&fx, "/api/server/status", 200);
	streams[SSE_MAX_STREAMS + 1] = sse_open(&fx, "");
	second_run = run_project(&fx, "quick");
	assert_gets_run(streams[1], second_run);
	assert_gets_run(streams[SSE_MAX_STREAMS + 1], second_run);

	/* now full again: the oldest goes */
	streams[SSE_MAX_STREAMS + 2] = sse_open(&fx, "");
	assert_ended(streams[1]);

	for (guint i = 0; i < G_N_ELEMENTS(streams); i++) {
		if (streams[i] != NULL)
			sse_close(streams[i]);
	}
	sl_daemon_fixture_clear(&fx);
}

/* ---- GET /api/events ---------------------------------------------------------------------- */

static JsonArray *
events_of(JsonNode *node)
{
	JsonObject *root = object_of(node);
	JsonArray *events = json_object_get_array_member(root, "events");

	g_assert_cmpint(json_object_get_int_member(root, "count"), ==,
			json_array_get_length(events));
	return events;
}

static void
assert_event_count(SlDaemonFixture *fx, const char *path, guint expected)
{
	g_autoptr(JsonNode) node = get(fx, path, 200);

	g_assert_cmpuint(json_array_get_length(events_of(node)), ==, expected);
}

static void
test_events_query_func(void)
{
	SlDaemonFixture fx;
	SseClient *c;
	g_autofree char *run1 = NULL;
	g_autofree char *run2 = NULL;
	g_autofree char *run3 = NULL;
	g_autoptr(GPtrArray) seen = NULL;
	JsonNode *node;
	JsonArray *events;
	JsonObject *newest, *oldest;

	setup(&fx);
	sl_daemon_fixture_start(&fx);

	/*
	 * The start-up scans are jobs: the services scan is started, progresses 0/1 and 1/1
	 * and finishes; the drivers scan of an empty folder is started and finishes.
	 */
	assert_event_count(&fx, "/api/events", 6);
	assert_event_count(&fx, "/api/events?type=job.finished", 2);

	/* three runs one after the other, each seen to its end on a stream */
	c = sse_open(&fx, "");
	run1 = run_project(&fx, "quick");
	seen = sse_read_until(c, "instance.finished", run1);
	g_ptr_array_unref(seen);
	run2 = run_project(&fx, "quick2");
	seen = sse_read_until(c, "instance.finished", run2);
	g_ptr_array_unref(seen);
	run3 = run_project(&fx, "quick");
	seen = sse_read_until(c, "instance.finished", run3);
	g_assert_cmpuint(seen->len, ==, 2);

	node = get(&fx, "/api/events?type=instance.", 200);
	events = events_of(node);
	g_assert_cmpuint(json_array_get_length(events), ==, 6);
	newest = json_array_get_object_element(events, 0);
	g_assert_cmpstr(json_object_get_string_member(newest, "type"), ==, "instance.finished");
	g_assert_cmpstr(stdiolink_json_object_get_string(
			    json_object_get_object_member(newest, "data"), "instanceId"), ==, run3);
	g_assert_true(g_str_has_suffix(json_object_get_string_member(newest, "ts"), "Z"));
	oldest = json_array_get_object_element(events, 5);
	g_assert_cmpstr(json_object_get_string_member(oldest, "type"), ==, "instance.started");
	g_assert_cmpstr(stdiolink_json_object_get_string(
			    json_object_get_object_member(oldest, "data"), "instanceId"), ==, run1);
	json_node_unref(node);

	node = get(&fx, "/api/events?limit=1", 200);
	events = events_of(node);
	g_assert_cmpuint(json_array_get_length(events), ==, 1);
	g_assert_cmpstr(stdiolink_json_object_get_string(
			    json_object_get_object_member(json_array_get_object_element(events, 0),
							  "data"),
			    "instanceId"),
			==, run3);
	json_node_unref(node);

	assert_event_count(&fx, "/api/events?limit=0", 12);
	assert_event_count(&fx, "/api/events?limit=-4", 12);
	assert_event_count(&fx, "/api/events?limit=abc", 12);
	assert_event_count(&fx, "/api/events?limit=99999", 12);
	assert_event_count(&fx, "/api/events?type=instance.started", 3);
	assert_event_count(&fx, "/api/events?type=instance", 6);
	assert_event_count(&fx, "/api/events?type=Instance", 0);
	assert_event_count(&fx, "/api/events?type=", 12);
	assert_event_count(&fx, "/api/events?projectId=quick", 4);
	assert_event_count(&fx, "/api/events?projectId=quick2", 2);
	assert_event_count(&fx, "/api/events?projectId=qui", 0);
	assert_event_count(&fx, "/api/events?projectId=quick&type=instance.finished&limit=1", 1);

	node = get(&fx, "/api/events?projectId=quick2", 200);
	events = events_of(node);
	g_assert_cmpstr(stdiolink_json_object_get_string(
			    json_object_get_object_member(json_array_get_object_element(events, 1),
							  "data"),
			    "instanceId"),
			==, run2);
	json_node_unref(node);

	sse_close(c);
	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/events/project-logs", test_project_logs_func);
	g_test_add_func("/events/instance-logs", test_instance_logs_func);
	g_test_add_func("/events/process-routes", test_process_routes_func);
	g_test_add_func("/events/sse/order", test_sse_order_func);
	g_test_add_func("/events/sse/filter", test_sse_filter_func);
	g_test_add_func("/events/sse/heartbeat", test_sse_heartbeat_func);
	g_test_add_func("/events/sse/slow-client", test_sse_slow_client_func);
	g_test_add_func("/events/sse/stream-limit", test_sse_limit_func);
	g_test_add_func("/events/query", test_events_query_func);
	return g_test_run();
}

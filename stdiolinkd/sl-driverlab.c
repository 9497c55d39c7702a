#include "config.h"

#include <string.h>

#include "sl-driverlab.h"
#include "sl-http.h"

/*
 * DriverLab (driverlab.md): one WebSocket, one driver process. Messages from the browser
 * become lines on the driver's stdin; lines on its stdout become messages. The driver runs
 * in a StdiolinkDriverSession, so nothing here waits for it: a stop is SIGKILL and the exit
 * is observed asynchronously. A connection is forgotten when its socket has closed.
 */

#define META_QUERY "{\"cmd\":\"meta.describe\",\"data\":{}}\n"
#define RESTART_REASON "oneshot auto-restart"
#define RAPID_CRASH_US (2000 * G_TIME_SPAN_MILLISECOND)
#define MAX_RAPID_CRASHES 3

struct _SlDriverlab {
	GObject parent_instance;

	StdiolinkEngine *engine;
	char **envp;
	GQueue conns; /* DlConn, oldest first */
	guint ping_ms;
	guint pong_timeout_ms;
	guint meta_timeout_ms;
	guint tick_id;
};

G_DEFINE_FINAL_TYPE(SlDriverlab, sl_driverlab, G_TYPE_OBJECT)

typedef struct {
	SlDriverlab *lab;
	SoupWebsocketConnection *ws;
	char *driver_id;
	gboolean keepalive;
	StdiolinkDriverSession *session;
	gboolean meta_sent;
	guint meta_timer_id;
	gint64 last_pong_us;
	gint64 last_start_us;
	gboolean last_exit_crashed;
	guint rapid_crashes;
	gboolean restart_suppressed;
	gboolean closing; /* teardown began: nothing more is sent */
	GList link;
} DlConn;

/* ---- sending ------------------------------------------------------------------------- */

static void
send_object(DlConn *conn, JsonObject *object)
{
	g_autofree char *text = NULL;

	if (conn->closing ||
	    soup_websocket_connection_get_state(conn->ws) != SOUP_WEBSOCKET_STATE_OPEN)
		return;
	text = stdiolink_json_object_to_string(object, STDIOLINK_JSON_COMPACT);
	soup_websocket_connection_send_text(conn->ws, text);
}

static JsonObject *
message_new(const char *type)
{
	JsonObject *object = json_object_new();

	json_object_set_string_member(object, "type", type);
	return object;
}

static void
send_error(DlConn *conn, const char *message)
{
	g_autoptr(JsonObject) object = message_new("error");

	json_object_set_string_member(object, "message", message);
	send_object(conn, object);
}

static void
send_pid_message(DlConn *conn, const char *type, const char *reason)
{
	g_autoptr(JsonObject) object = message_new(type);

	json_object_set_int_member(object, "pid", stdiolink_driver_session_get_pid(conn->session));
	if (reason != NULL)
		json_object_set_string_member(object, "reason", reason);
	send_object(conn, object);
}

/* ---- teardown ------------------------------------------------------------------------ */

/* stops the driver (SIGKILL, not waited for) and everything that would still send */
static void
conn_teardown(DlConn *conn)
{
	conn->closing = TRUE;
	g_clear_handle_id(&conn->meta_timer_id, g_source_remove);
	if (conn->session != NULL) {
		g_signal_handlers_disconnect_by_data(conn->session, conn);
		g_clear_object(&conn->session);
	}
}

static void
conn_close(DlConn *conn, gushort code, const char *reason)
{
	gboolean open = soup_websocket_connection_get_state(conn->ws) == SOUP_WEBSOCKET_STATE_OPEN;

	conn_teardown(conn);
	if (open)
		soup_websocket_connection_close(conn->ws, code, reason);
}

static void
conn_free(DlConn *conn)
{
	conn_teardown(conn);
	g_signal_handlers_disconnect_by_data(conn->ws, conn);
	g_object_unref(conn->ws);
	g_free(conn->driver_id);
	g_free(conn);
}

static void
closed_cb(SoupWebsocketConnection *ws, gpointer user_data)
{
	DlConn *conn = user_data;

	g_debug("driverlab: %s: connection closed", conn->driver_id);
	g_queue_unlink(&conn->lab->conns, &conn->link);
	conn_free(conn);
}

/* ---- driver output ------------------------------------------------------------------- */

/* driverlab.md 4.1: before meta, the first `done` line is the meta reply */
static gboolean
try_send_meta(DlConn *conn, const char *line)
{
	g_autoptr(JsonNode) node = stdiolink_json_parse(line, -1, NULL);
	g_autoptr(JsonObject) object = NULL;
	JsonObject *reply;
	JsonNode *data;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return FALSE;
	reply = json_node_get_object(node);
	if (g_strcmp0(stdiolink_json_object_get_string(reply, "status"), "done") != 0)
		return FALSE;

	conn->meta_sent = TRUE;
	g_clear_handle_id(&conn->meta_timer_id, g_source_remove);
	data = json_object_get_member(reply, "data");
	object = message_new("meta");
	json_object_set_string_member(object, "driverId", conn->driver_id);
	json_object_set_int_member(object, "pid", stdiolink_driver_session_get_pid(conn->session));
	json_object_set_string_member(object, "runMode", conn->keepalive ? "keepalive" : "oneshot");
	json_object_set_member(object, "meta", data != NULL ? json_node_copy(data)
							    : json_node_new(JSON_NODE_NULL));
	send_object(conn, object);
	return TRUE;
}

static void
line_cb(StdiolinkDriverSession *session, const char *line, gpointer user_data)
{
	DlConn *conn = user_data;
	g_autoptr(JsonObject) object = NULL;
	g_autoptr(JsonNode) node = NULL;

	if (!conn->meta_sent && try_send_meta(conn, line))
		return;

	/* a JSON object goes as it is, anything else as the raw text */
	object = message_new("stdout");
	node = stdiolink_json_parse(line, -1, NULL);
	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node))
		json_object_set_member(object, "message", g_steal_pointer(&node));
	else
		json_object_set_string_member(object, "message", line);
	send_object(conn, object);
}

static void
overflow_cb(StdiolinkDriverSession *session, gpointer user_data)
{
	DlConn *conn = user_data;
	g_autoptr(JsonObject) object = message_new("error");

	json_object_set_string_member(object, "message", "output buffer overflow");
	json_object_set_string_member(object, "channel", "stdout");
	json_object_set_int_member(object, "limit", STDIOLINK_JSONL_MAX_LINE);
	send_object(conn, object);
}

static void
exited_cb(StdiolinkDriverSession *session, gint code, gboolean crashed, gpointer user_data)
{
	DlConn *conn = user_data;
	g_autoptr(JsonObject) object = message_new("driver.exited");
	const char *reason = crashed ? "driver crashed" : "driver exited normally";

	json_object_set_int_member(object, "exitCode", code);
	json_object_set_string_member(object, "exitStatus", crashed ? "crash" : "normal");
	json_object_set_string_member(object, "reason", reason);
	send_object(conn, object);

	/* driverlab.md 5.1: a non-zero exit code counts as a crash for the backoff */
	conn->last_exit_crashed = crashed || code != 0;
	if (conn->keepalive)
		conn_close(conn, SOUP_WEBSOCKET_CLOSE_NORMAL, reason);
}

static gboolean
meta_timeout_cb(gpointer user_data)
{
	DlConn *conn = user_data;

	conn->meta_timer_id = 0;
	if (!conn->meta_sent)
		send_error(conn, "meta query timeout");
	return G_SOURCE_REMOVE;
}

/* ---- starting the driver ------------------------------------------------------------- */

static gboolean
start_driver(DlConn *conn, gboolean restart)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *message = NULL;

	if (!stdiolink_driver_session_start(conn->session, &error)) {
		message = g_strdup_printf("driver failed to start: %s", error->message);
		g_info("driverlab: %s: %s", conn->driver_id, message);
		send_error(conn, message);

		/* 1006, which the original reports, cannot be sent in a close frame */
		conn_close(conn, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR, "driver start failed");
		return FALSE;
	}
	conn->last_start_us = g_get_monotonic_time();
	if (restart) {
		send_pid_message(conn, "driver.restarted", RESTART_REASON);
		return TRUE;
	}
	send_pid_message(conn, "driver.started", NULL);
	stdiolink_driver_session_write_line(conn->session, META_QUERY);
	conn->meta_timer_id = g_timeout_add(conn->lab->meta_timeout_ms, meta_timeout_cb, conn);
	return TRUE;
}

/* driverlab.md 5.1: too many quick crashes in a row stop the automatic restarts */
static gboolean
restart_allowed(DlConn *conn)
{
	gint64 since_start = g_get_monotonic_time() - conn->last_start_us;

	if (conn->last_exit_crashed && since_start < RAPID_CRASH_US)
		conn->rapid_crashes++;
	else
		conn->rapid_crashes = 0;
	if (conn->rapid_crashes < MAX_RAPID_CRASHES)
		return TRUE;
	conn->restart_suppressed = TRUE;
	send_error(conn, "driver restart suppressed: too many rapid crashes");
	return FALSE;
}

/* ---- client messages ----------------------------------------------------------------- */

static gboolean
ensure_running(DlConn *conn)
{
	if (stdiolink_driver_session_is_running(conn->session))
		return TRUE;
	if (conn->keepalive) {
		send_error(conn, "driver is not running");
		return FALSE;
	}
	if (conn->restart_suppressed) {
		send_error(conn, "driver restart suppressed due to rapid crashes");
		return FALSE;
	}
	return restart_allowed(conn) && start_driver(conn, TRUE);
}

static void
handle_exec(DlConn *conn, JsonObject *message)
{
	g_autoptr(JsonObject) request = json_object_new();
	g_autofree char *text = NULL;
	g_autofree char *line = NULL;
	JsonNode *cmd = json_object_get_member(message, "cmd");
	JsonNode *data = json_object_get_member(message, "data");

	if (!ensure_running(conn))
		return;

	/* driverlab.md 5: cmd and data as the browser sent them, each only if present */
	if (cmd != NULL)
		json_object_set_member(request, "cmd", json_node_copy(cmd));
	if (data != NULL)
		json_object_set_member(request, "data", json_node_copy(data));
	text = stdiolink_json_object_to_string(request, STDIOLINK_JSON_COMPACT);
	line = g_strconcat(text, "\n", NULL);
	stdiolink_driver_session_write_line(conn->session, line);
}

static void
handle_text(DlConn *conn, const char *data, gsize length)
{
	g_autoptr(JsonNode) node = stdiolink_json_parse(data, (gssize)length, NULL);
	g_autofree char *unknown = NULL;
	JsonObject *message;
	const char *type;

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
		send_error(conn, "invalid JSON");
		return;
	}
	message = json_node_get_object(node);
	type = stdiolink_json_object_get_string(message, "type");
	if (g_strcmp0(type, "exec") == 0) {
		handle_exec(conn, message);
	} else if (g_strcmp0(type, "cancel") == 0) {
		/* EOF on stdin; a keepalive driver then exits, a oneshot one after its request */
		stdiolink_driver_session_close_stdin(conn->session);
	} else {
		unknown = g_strconcat("unknown message type: ", type != NULL ? type : "", NULL);
		send_error(conn, unknown);
	}
}

static void
message_cb(SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
	DlConn *conn = user_data;
	gsize length = 0;
	const char *data = g_bytes_get_data(message, &length);

	/* binary frames are ignored */
	if (conn->closing || type != SOUP_WEBSOCKET_DATA_TEXT)
		return;
	handle_text(conn, data != NULL ? data : "", length);
}

static void
pong_cb(SoupWebsocketConnection *ws, GBytes *message, gpointer user_data)
{
	DlConn *conn = user_data;

	conn->last_pong_us = g_get_monotonic_time();
}

static void
error_cb(SoupWebsocketConnection *ws, GError *error, gpointer user_data)
{
	DlConn *conn = user_data;

	g_debug("driverlab: %s: %s", conn->driver_id, error->message);
}

/* ---- liveness ------------------------------------------------------------------------ */

/* driverlab.md 7: before each ping, connections silent for too long are dropped */
static gboolean
tick_cb(gpointer user_data)
{
	SlDriverlab *self = user_data;
	gint64 now = g_get_monotonic_time();
	gint64 limit = (gint64)self->pong_timeout_ms * G_TIME_SPAN_MILLISECOND;

	for (GList *l = self->conns.head; l != NULL; l = l->next) {
		DlConn *conn = l->data;

		if (!conn->closing && now - conn->last_pong_us > limit) {
			g_info("driverlab: %s: pong timeout", conn->driver_id);
			conn_close(conn, SOUP_WEBSOCKET_CLOSE_GOING_AWAY, "pong timeout");
		}
	}
	return G_SOURCE_CONTINUE;
}

/* ---- accepting ----------------------------------------------------------------------- */

static const char *
driver_id_of(const char *path)
{
	return path + strlen(SL_DRIVERLAB_PATH "/");
}

/* the catalogue's program for @id, or NULL */
static char *
lookup_program(SlDriverlab *self, const char *id)
{
	g_autoptr(JsonNode) detail = NULL;

	if (*id == '\0')
		return NULL;
	detail = stdiolink_engine_get_driver(self->engine, id, NULL);
	if (detail == NULL)
		return NULL;
	return g_strdup(stdiolink_json_object_get_string(json_node_get_object(detail), "program"));
}

static GStrv
driver_args(GHashTable *query, gboolean keepalive)
{
	const char *extra = g_hash_table_lookup(query, "args");
	g_autoptr(GStrvBuilder) builder = g_strv_builder_new();
	g_auto(GStrv) items = NULL;

	g_strv_builder_add(builder, keepalive ? "--profile=keepalive" : "--profile=oneshot");

	/* split on `,` after decoding, empty items dropped, no trimming */
	items = g_strsplit(extra != NULL ? extra : "", ",", -1);
	for (guint i = 0; items[i] != NULL; i++) {
		if (*items[i] != '\0')
			g_strv_builder_add(builder, items[i]);
	}
	return g_strv_builder_end(builder);
}

static DlConn *
conn_new(SlDriverlab *self, SoupWebsocketConnection *ws, const char *driver_id)
{
	DlConn *conn = g_new0(DlConn, 1);

	conn->lab = self;
	conn->ws = g_object_ref(ws);
	conn->driver_id = g_strdup(driver_id);
	conn->last_pong_us = g_get_monotonic_time();
	conn->link.data = conn;
	g_queue_push_tail_link(&self->conns, &conn->link);

	g_signal_connect(ws, "message", G_CALLBACK(message_cb), conn);
	g_signal_connect(ws, "pong", G_CALLBACK(pong_cb), conn);
	g_signal_connect(ws, "error", G_CALLBACK(error_cb), conn);
	g_signal_connect(ws, "closed", G_CALLBACK(closed_cb), conn);
	soup_websocket_connection_set_max_incoming_payload_size(ws,
								SL_DRIVERLAB_MAX_MESSAGE_BYTES);
	soup_websocket_connection_set_keepalive_interval(ws, MAX(1, self->ping_ms / 1000));
	return conn;
}

static void
websocket_cb(SoupServer *soup,
	     SoupServerMessage *msg,
	     const char *path,
	     SoupWebsocketConnection *ws,
	     gpointer user_data)
{
	SlDriverlab *self = user_data;
	const char *driver_id = driver_id_of(path);
	g_autoptr(GHashTable) query = NULL;
	g_autofree char *program = lookup_program(self, driver_id);
	g_auto(GStrv) args = NULL;
	const char *mode;
	DlConn *conn = conn_new(self, ws, driver_id);

	/* the driver may have gone between the checks and now */
	if (program == NULL) {
		conn_close(conn, SOUP_WEBSOCKET_CLOSE_SERVER_ERROR,
			   *driver_id == '\0' ? "invalid request" : "driver not found");
		return;
	}
	query = sl_http_parse_query(g_uri_get_query(soup_server_message_get_uri(msg)));
	mode = g_hash_table_lookup(query, "runMode");
	conn->keepalive = g_strcmp0(mode, "keepalive") == 0;
	args = driver_args(query, conn->keepalive);
	conn->session = stdiolink_driver_session_new(program, (const char *const *)args,
						     (const char *const *)self->envp);
	g_signal_connect(conn->session, "line", G_CALLBACK(line_cb), conn);
	g_signal_connect(conn->session, "overflow", G_CALLBACK(overflow_cb), conn);
	g_signal_connect(conn->session, "exited", G_CALLBACK(exited_cb), conn);
	g_info("driverlab: %s: connected (%s)", driver_id,
	       conn->keepalive ? "keepalive" : "oneshot");
	start_driver(conn, FALSE);
}

static void
refuse(SoupServerMessage *msg, guint status, const char *text)
{
	soup_server_message_set_status(msg, status, NULL);
	soup_server_message_set_response(msg, "text/plain", SOUP_MEMORY_COPY, text, strlen(text));
}

static gboolean
is_websocket_upgrade(SoupServerMessage *msg)
{
	SoupMessageHeaders *headers = soup_server_message_get_request_headers(msg);

	return soup_message_headers_header_contains(headers, "Upgrade", "websocket");
}

/**
 * sl_driverlab_check_upgrade:
 * @self: the DriverLab
 * @msg: a request
 * @path: its decoded path
 *
 * Verifies a WebSocket upgrade under `/api/driverlab/` (driverlab.md 1): an unknown
 * driver is refused with 404, an eleventh connection with 429, a bad `runMode` with 400,
 * each as plain text without CORS headers. A request that passes keeps no status, so that
 * libsoup goes on with the handshake and the WebSocket handler runs.
 *
 * Returns: %TRUE if @msg was such an upgrade (refused or left to the handshake); %FALSE
 *   for every other request, which the caller routes as usual
 */
gboolean
sl_driverlab_check_upgrade(SlDriverlab *self, SoupServerMessage *msg, const char *path)
{
	g_autoptr(GHashTable) query = NULL;
	g_autofree char *program = NULL;
	const char *mode;

	if (!g_str_has_prefix(path, SL_DRIVERLAB_PATH "/") || !is_websocket_upgrade(msg))
		return FALSE;

	program = lookup_program(self, driver_id_of(path));
	query = sl_http_parse_query(g_uri_get_query(soup_server_message_get_uri(msg)));
	mode = g_hash_table_lookup(query, "runMode");
	if (program == NULL)
		refuse(msg, SOUP_STATUS_NOT_FOUND, "driver not found");
	else if (g_queue_get_length(&self->conns) >= SL_DRIVERLAB_MAX_CONNECTIONS)
		refuse(msg, 429 /* not named in libsoup 3.2 */, "too many connections");
	else if (mode != NULL && *mode != '\0' && g_strcmp0(mode, "oneshot") != 0 &&
		 g_strcmp0(mode, "keepalive") != 0)
		refuse(msg, SOUP_STATUS_BAD_REQUEST, "invalid runMode");
	return TRUE;
}

/**
 * sl_driverlab_attach:
 * @self: the DriverLab
 * @soup: the server
 *
 * Registers the WebSocket handler on %SL_DRIVERLAB_PATH. The caller also registers its
 * early handler (access checks) and its normal handler on that path, and the normal
 * handler calls sl_driverlab_check_upgrade() first.
 */
void
sl_driverlab_attach(SlDriverlab *self, SoupServer *soup)
{
	soup_server_add_websocket_handler(soup, SL_DRIVERLAB_PATH, NULL, NULL, websocket_cb,
					  self, NULL);
}

/**
 * sl_driverlab_close_all:
 * @self: the DriverLab
 *
 * Server shutdown: every driver is killed and every socket closed with 1000.
 */
void
sl_driverlab_close_all(SlDriverlab *self)
{
	for (GList *l = self->conns.head; l != NULL; l = l->next)
		conn_close(l->data, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
}

/**
 * sl_driverlab_get_connection_count:
 * @self: the DriverLab
 *
 * Returns: the connections whose socket has not closed yet
 */
guint
sl_driverlab_get_connection_count(SlDriverlab *self)
{
	return g_queue_get_length(&self->conns);
}

/* ---- object -------------------------------------------------------------------------- */

static void
sl_driverlab_dispose(GObject *object)
{
	SlDriverlab *self = SL_DRIVERLAB(object);
	GList *link;

	g_clear_handle_id(&self->tick_id, g_source_remove);
	while ((link = g_queue_pop_head_link(&self->conns)) != NULL)
		conn_free(link->data);
	g_clear_object(&self->engine);
	G_OBJECT_CLASS(sl_driverlab_parent_class)->dispose(object);
}

static void
sl_driverlab_finalize(GObject *object)
{
	SlDriverlab *self = SL_DRIVERLAB(object);

	g_strfreev(self->envp);
	G_OBJECT_CLASS(sl_driverlab_parent_class)->finalize(object);
}

static void
sl_driverlab_class_init(SlDriverlabClass *klass)
{
	GObjectClass *object_class = G_OBJECT_CLASS(klass);

	object_class->dispose = sl_driverlab_dispose;
	object_class->finalize = sl_driverlab_finalize;
}

static void
sl_driverlab_init(SlDriverlab *self)
{
	g_queue_init(&self->conns);
}

/* tests may shorten the timers; a bad value is reported and ignored */
static guint
env_ms(const char *name, guint fallback)
{
	const char *text = g_getenv(name);
	g_autoptr(GError) error = NULL;
	guint64 value = 0;

	if (text == NULL || *text == '\0')
		return fallback;
	if (!g_ascii_string_to_unsigned(text, 10, 1, G_MAXUINT32, &value, &error)) {
		g_warning("ignoring %s: %s", name, error->message);
		return fallback;
	}
	return (guint)value;
}

/**
 * sl_driverlab_new:
 * @engine: the engine, for the driver catalogue
 *
 * Drivers get the daemon's environment with the daemon's own folder first in `PATH`
 * (protocol.md 7).
 *
 * Returns: (transfer full): a DriverLab without connections
 */
SlDriverlab *
sl_driverlab_new(StdiolinkEngine *engine)
{
	SlDriverlab *self = g_object_new(SL_TYPE_DRIVERLAB, NULL);
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *exe_dir = exe != NULL ? g_path_get_dirname(exe) : NULL;

	self->engine = g_object_ref(engine);
	self->envp = stdiolink_driver_environ(exe_dir);
	self->ping_ms = env_ms("STDIOLINKD_DRIVERLAB_PING_MS", SL_DRIVERLAB_PING_MS);
	self->pong_timeout_ms = env_ms("STDIOLINKD_DRIVERLAB_PONG_TIMEOUT_MS",
				       SL_DRIVERLAB_PONG_TIMEOUT_MS);
	self->meta_timeout_ms = env_ms("STDIOLINKD_DRIVERLAB_META_TIMEOUT_MS",
				       SL_DRIVERLAB_META_TIMEOUT_MS);
	self->tick_id = g_timeout_add(self->ping_ms, tick_cb, self);
	return self;
}

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "sl-sse.h"

/*
 * Server-sent events (events.md 2). Each subscriber is a paused chunked response: an event
 * is appended to its body and the message unpaused, and libsoup writes it when the socket
 * takes it. Nothing here waits for a client, so a slow one cannot hold the loop or the
 * others. Instead its queue is bounded: the bytes appended but not yet written are counted
 * (libsoup reports each write), and a subscriber that falls SL_SSE_MAX_PENDING_BYTES behind,
 * or whose queue does not move for SL_SSE_STALL_MS, is cut off with a reset. Heartbeats count
 * as activity; a client that closes its end is noticed at once through its socket.
 */

#define HEARTBEAT_TEXT ": heartbeat\n\n"

/* what an appended chunk was, so that a dropped stream can count the events it lost */
enum { CHUNK_COMMENT = 1, CHUNK_EVENT = 2 };

typedef enum {
	CLOSE_GONE,  /* libsoup already ended the message; only forget it */
	CLOSE_END,   /* end the connection; what the kernel holds is still delivered */
	CLOSE_RESET, /* reset the connection and discard everything queued */
} CloseHow;

struct _SlSse {
	GObject parent_instance;

	StdiolinkEventBus *bus;
	gulong event_handler;
	GQueue streams; /* SseStream, oldest first */
	guint heartbeat_ms;
	gsize max_pending;
	guint heartbeat_id;
	guint64 next_id;
	guint64 dropped_streams;
	guint64 dropped_events;
	guint64 evicted_streams;
};

G_DEFINE_FINAL_TYPE(SlSse, sl_sse, G_TYPE_OBJECT)

typedef struct {
	SlSse *sse;
	guint64 id;
	SoupServerMessage *msg;
	GSocket *socket;	 /* nullable */
	GSource *watch;		 /* nullable: notices the client closing */
	char **prefixes;	 /* NULL: every event */
	gsize pending_bytes;	 /* appended, not yet written to the socket */
	GQueue pending_chunks;	 /* CHUNK_*, one per chunk not yet written in full */
	gint64 waiting_since_us; /* last progress while data waits; 0 when nothing waits */
	GList link;		 /* in sse->streams */
} SseStream;

/* ---- settings ----------------------------------------------------------------------------- */

/* tests and operators may tune the policy; a bad value is reported and ignored */
static guint64
env_number(const char *name, guint64 fallback)
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
	return value;
}

/*
 * events.md 2.1: items are split on `,`, empty ones dropped, the rest trimmed. An item of
 * spaces trims to the empty prefix, which matches everything.
 */
static char **
parse_filter(const char *filter)
{
	g_auto(GStrv) parts = NULL;
	g_autoptr(GPtrArray) prefixes = g_ptr_array_new_with_free_func(g_free);

	if (filter == NULL)
		return NULL;
	parts = g_strsplit(filter, ",", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		if (*parts[i] == '\0')
			continue;
		g_strstrip(parts[i]);
		if (*parts[i] == '\0')
			return NULL;
		g_ptr_array_add(prefixes, g_strdup(parts[i]));
	}
	if (prefixes->len == 0)
		return NULL;
	g_ptr_array_add(prefixes, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&prefixes), FALSE);
}

static gboolean
stream_wants(SseStream *stream, const char *type)
{
	if (stream->prefixes == NULL)
		return TRUE;
	for (guint i = 0; stream->prefixes[i] != NULL; i++) {
		if (g_str_has_prefix(type, stream->prefixes[i]))
			return TRUE;
	}
	return FALSE;
}

/* ---- closing ------------------------------------------------------------------------------ */

static guint
pending_events(SseStream *stream)
{
	guint n = 0;

	for (GList *l = stream->pending_chunks.head; l != NULL; l = l->next) {
		if (GPOINTER_TO_INT(l->data) == CHUNK_EVENT)
			n++;
	}
	return n;
}

/* no linger: close() sends a reset and the kernel drops what the client never read */
static void
set_reset_on_close(GSocket *socket)
{
	struct linger linger = {.l_onoff = 1, .l_linger = 0};

	if (setsockopt(g_socket_get_fd(socket), SOL_SOCKET, SO_LINGER, &linger,
		       sizeof(linger)) != 0)
		g_debug("SO_LINGER: %s", g_strerror(errno));
}

static void
take_over_and_close(SseStream *stream, CloseHow how)
{
	GIOStream *connection;

	/*
	 * When libsoup lets go of a chunked response it writes the last chunk with a BLOCKING
	 * write, which would hang the loop on a client that does not read. With the sending
	 * side shut first, that write fails at once.
	 */
	if (stream->socket != NULL) {
		if (how == CLOSE_RESET)
			set_reset_on_close(stream->socket);
		g_socket_shutdown(stream->socket, FALSE, TRUE, NULL);
	}

	/* taking the connection from libsoup ends its work on the message at once */
	connection = soup_server_message_steal_connection(stream->msg);
	if (connection == NULL)
		return;
	g_io_stream_close_async(connection, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
	g_object_unref(connection);
}

static void heartbeat_stop(SlSse *self);

static void
stream_close(SseStream *stream, CloseHow how)
{
	SlSse *self = stream->sse;

	g_queue_unlink(&self->streams, &stream->link);
	g_signal_handlers_disconnect_by_data(stream->msg, stream);
	if (stream->watch != NULL) {
		g_source_destroy(stream->watch);
		g_source_unref(stream->watch);
	}
	if (how != CLOSE_GONE)
		take_over_and_close(stream, how);
	g_info("SSE stream %" G_GUINT64_FORMAT " closed; %u open", stream->id,
	       g_queue_get_length(&self->streams));

	g_queue_clear(&stream->pending_chunks);
	g_strfreev(stream->prefixes);
	g_clear_object(&stream->socket);
	g_object_unref(stream->msg);
	g_free(stream);
	if (g_queue_is_empty(&self->streams))
		heartbeat_stop(self);
}

/* the subscriber does not keep up: cut it off and count what it lost */
static void
stream_drop(SseStream *stream, const char *why, guint lost_now)
{
	SlSse *self = stream->sse;

	g_message("SSE stream %" G_GUINT64_FORMAT " dropped: %s (%" G_GSIZE_FORMAT
		  " bytes unsent)",
		  stream->id, why, stream->pending_bytes);
	self->dropped_streams++;
	self->dropped_events += pending_events(stream) + lost_now;
	stream_close(stream, CLOSE_RESET);
}

/* ---- writing ------------------------------------------------------------------------------ */

static void
stream_write(SseStream *stream, const char *text, gboolean is_event)
{
	SoupMessageBody *body = soup_server_message_get_response_body(stream->msg);
	gsize length = strlen(text);

	if (stream->pending_bytes + length > stream->sse->max_pending) {
		stream_drop(stream, "too far behind", is_event ? 1 : 0);
		return;
	}
	if (stream->pending_bytes == 0)
		stream->waiting_since_us = g_get_monotonic_time();
	soup_message_body_append(body, SOUP_MEMORY_COPY, text, length);
	stream->pending_bytes += length;
	g_queue_push_tail(&stream->pending_chunks,
			  GINT_TO_POINTER(is_event ? CHUNK_EVENT : CHUNK_COMMENT));

	/* libsoup paused itself when the body ran dry; this schedules the write */
	soup_server_message_unpause(stream->msg);
}

static void
event_cb(StdiolinkEventBus *bus,
	 const char *type,
	 JsonObject *data,
	 const char *ts,
	 gpointer user_data)
{
	SlSse *self = user_data;
	g_autofree char *frame = NULL;
	GList *next;

	for (GList *l = self->streams.head; l != NULL; l = next) {
		SseStream *stream = l->data;

		/* a write may drop the stream, and with it this link */
		next = l->next;
		if (!stream_wants(stream, type))
			continue;
		if (frame == NULL) {
			g_autofree char *json = stdiolink_json_object_to_string(
			    data, STDIOLINK_JSON_COMPACT);

			frame = g_strdup_printf("event: %s\ndata: %s\n\n", type, json);
		}
		stream_write(stream, frame, TRUE);
	}
}

static gboolean
heartbeat_cb(gpointer user_data)
{
	SlSse *self = user_data;
	gint64 now = g_get_monotonic_time();
	GList *next;

	for (GList *l = self->streams.head; l != NULL; l = next) {
		SseStream *stream = l->data;

		next = l->next;
		if (stream->pending_bytes == 0)
			stream_write(stream, HEARTBEAT_TEXT, FALSE);
		else if (now - stream->waiting_since_us > (gint64)SL_SSE_STALL_MS * 1000)
			stream_drop(stream, "no progress", 0);
	}
	if (self->heartbeat_id == 0)
		return G_SOURCE_REMOVE;
	return G_SOURCE_CONTINUE;
}

static void
heartbeat_start(SlSse *self)
{
	if (self->heartbeat_id == 0)
		self->heartbeat_id = g_timeout_add(self->heartbeat_ms, heartbeat_cb, self);
}

static void
heartbeat_stop(SlSse *self)
{
	g_clear_handle_id(&self->heartbeat_id, g_source_remove);
}

/* ---- following one message ---------------------------------------------------------------- */

static void
wrote_body_data_cb(SoupServerMessage *msg, guint size, gpointer user_data)
{
	SseStream *stream = user_data;

	stream->pending_bytes -= MIN(stream->pending_bytes, size);
	stream->waiting_since_us = stream->pending_bytes > 0 ? g_get_monotonic_time() : 0;
}

static void
wrote_chunk_cb(SoupServerMessage *msg, gpointer user_data)
{
	SseStream *stream = user_data;

	g_queue_pop_head(&stream->pending_chunks);
}

/* a write failed or the connection went away: libsoup is done with the message */
static void
message_gone_cb(SoupServerMessage *msg, gpointer user_data)
{
	stream_close(user_data, CLOSE_GONE);
}

/*
 * libsoup does not read a connection while it writes a response, so a client that closes
 * would go unnoticed until a write fails. Peeking at the socket notices it at once.
 */
static gboolean
socket_ready_cb(GSocket *socket, GIOCondition condition, gpointer user_data)
{
	SseStream *stream = user_data;
	char c;
	gssize n = recv(g_socket_get_fd(socket), &c, 1, MSG_PEEK | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return G_SOURCE_CONTINUE;
	if (n > 0) {
		/* the client sent something after its request; a failed write will tell */
		return G_SOURCE_REMOVE;
	}
	g_debug("SSE stream %" G_GUINT64_FORMAT ": client closed", stream->id);
	stream_close(stream, CLOSE_END);
	return G_SOURCE_REMOVE;
}

static void
stream_watch_socket(SseStream *stream)
{
	GSocket *socket = soup_server_message_get_socket(stream->msg);
	g_autoptr(GError) error = NULL;

	if (socket == NULL)
		return;
	stream->socket = g_object_ref(socket);

	/*
	 * Taking the connection over makes libsoup look up both addresses, which warns once the
	 * peer is gone. Looked up now, while it is connected, they are cached.
	 */
	soup_server_message_get_local_address(stream->msg);
	soup_server_message_get_remote_address(stream->msg);

	/* the kernel keeps little; the rest queues where it is counted */
	if (!g_socket_set_option(socket, SOL_SOCKET, SO_SNDBUF, SL_SSE_SOCKET_BUFFER_BYTES,
				 &error))
		g_debug("SO_SNDBUF: %s", error->message);

	stream->watch = g_socket_create_source(socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
	g_source_set_callback(stream->watch, G_SOURCE_FUNC(socket_ready_cb), stream, NULL);
	g_source_attach(stream->watch, NULL);
}

static void
start_response(SoupServerMessage *msg)
{
	SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);

	soup_server_message_set_status(msg, SOUP_STATUS_OK, NULL);
	soup_message_headers_replace(headers, "Content-Type", "text/event-stream");
	soup_message_headers_replace(headers, "Cache-Control", "no-cache");
	soup_message_headers_replace(headers, "X-Accel-Buffering", "no");
	soup_message_headers_set_encoding(headers, SOUP_ENCODING_CHUNKED);

	/* written chunks are released instead of kept for a body nobody will read */
	soup_message_body_set_accumulate(soup_server_message_get_response_body(msg), FALSE);
}

/**
 * sl_sse_add_stream:
 * @self: the SSE hub
 * @msg: a `GET /api/events/stream` request
 * @filter: (nullable): the `filter` query value
 *
 * Answers @msg with the event-stream headers, written at once with no body yet, and keeps
 * it open for events. Opening more than %SL_SSE_MAX_STREAMS closes the oldest stream.
 */
void
sl_sse_add_stream(SlSse *self, SoupServerMessage *msg, const char *filter)
{
	SseStream *stream;

	if (g_queue_get_length(&self->streams) >= SL_SSE_MAX_STREAMS) {
		SseStream *oldest = g_queue_peek_head(&self->streams);

		g_info("SSE stream %" G_GUINT64_FORMAT " evicted: too many streams", oldest->id);
		self->evicted_streams++;
		stream_close(oldest, CLOSE_END);
	}

	start_response(msg);
	stream = g_new0(SseStream, 1);
	stream->sse = self;
	stream->id = ++self->next_id;
	stream->msg = g_object_ref(msg);
	stream->prefixes = parse_filter(filter);
	g_queue_init(&stream->pending_chunks);
	stream->link.data = stream;
	g_queue_push_tail_link(&self->streams, &stream->link);

	g_signal_connect(msg, "wrote-body-data", G_CALLBACK(wrote_body_data_cb), stream);
	g_signal_connect(msg, "wrote-chunk", G_CALLBACK(wrote_chunk_cb), stream);
	g_signal_connect(msg, "finished", G_CALLBACK(message_gone_cb), stream);
	g_signal_connect(msg, "disconnected", G_CALLBACK(message_gone_cb), stream);
	stream_watch_socket(stream);
	heartbeat_start(self);
	g_info("SSE stream %" G_GUINT64_FORMAT " opened; %u open", stream->id,
	       g_queue_get_length(&self->streams));
}

/**
 * sl_sse_close_all:
 * @self: the SSE hub
 *
 * Ends every stream, for shutdown.
 */
void
sl_sse_close_all(SlSse *self)
{
	while (!g_queue_is_empty(&self->streams))
		stream_close(g_queue_peek_head(&self->streams), CLOSE_END);
}

/* ---- the object ---------------------------------------------------------------------------- */

static void
sl_sse_dispose(GObject *object)
{
	SlSse *self = SL_SSE(object);

	if (self->bus != NULL)
		g_clear_signal_handler(&self->event_handler, self->bus);
	sl_sse_close_all(self);
	heartbeat_stop(self);
	g_clear_object(&self->bus);
	G_OBJECT_CLASS(sl_sse_parent_class)->dispose(object);
}

static void
sl_sse_class_init(SlSseClass *klass)
{
	G_OBJECT_CLASS(klass)->dispose = sl_sse_dispose;
}

static void
sl_sse_init(SlSse *self)
{
	g_queue_init(&self->streams);
}

/**
 * sl_sse_new:
 * @bus: the events to serve
 *
 * The heartbeat period and the per-stream queue limit default to %SL_SSE_HEARTBEAT_MS and
 * %SL_SSE_MAX_PENDING_BYTES; the environment variables `STDIOLINKD_SSE_HEARTBEAT_MS` and
 * `STDIOLINKD_SSE_MAX_PENDING_BYTES` override them.
 *
 * Returns: (transfer full): a hub with no streams
 */
SlSse *
sl_sse_new(StdiolinkEventBus *bus)
{
	SlSse *self = g_object_new(SL_TYPE_SSE, NULL);

	self->bus = g_object_ref(bus);
	self->heartbeat_ms = (guint)env_number("STDIOLINKD_SSE_HEARTBEAT_MS", SL_SSE_HEARTBEAT_MS);
	self->max_pending =
	    (gsize)env_number("STDIOLINKD_SSE_MAX_PENDING_BYTES", SL_SSE_MAX_PENDING_BYTES);
	self->event_handler = g_signal_connect(bus, "event", G_CALLBACK(event_cb), self);
	return self;
}

/**
 * sl_sse_get_stream_count:
 * @self: the SSE hub
 *
 * Returns: how many streams are open
 */
guint
sl_sse_get_stream_count(SlSse *self)
{
	return g_queue_get_length(&self->streams);
}

/**
 * sl_sse_get_dropped_streams:
 * @self: the SSE hub
 *
 * Returns: how many streams were cut off for falling behind or not moving
 */
guint64
sl_sse_get_dropped_streams(SlSse *self)
{
	return self->dropped_streams;
}

/**
 * sl_sse_get_dropped_events:
 * @self: the SSE hub
 *
 * Returns: how many events those streams lost
 */
guint64
sl_sse_get_dropped_events(SlSse *self)
{
	return self->dropped_events;
}

/**
 * sl_sse_get_evicted_streams:
 * @self: the SSE hub
 *
 * Returns: how many streams were closed to make room for a newer one
 */
guint64
sl_sse_get_evicted_streams(SlSse *self)
{
	return self->evicted_streams;
}

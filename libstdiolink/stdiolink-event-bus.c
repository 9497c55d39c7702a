#include "config.h"

#include <string.h>

#include "stdiolink-event-bus.h"
#include "stdiolink-json.h"
#include "stdiolink-log-writer.h"
#include "stdiolink-util.h"

/*
 * Publish/subscribe for the daemon's events (events.md 1). Each event goes, in publish
 * order, to the in-memory ring that serves GET /api/events, to logs/events.jsonl and to the
 * "event" signal (SSE). At start-up the ring is filled from the tail of events.jsonl in a
 * worker thread, so the history survives a restart as it did with the earlier server.
 */

#define EVENTS_LOG_MAX_BYTES 5242880
#define EVENTS_LOG_MAX_FILES 2
#define HISTORY_TAIL_BYTES   4194304
#define QUERY_DEFAULT_LIMIT  100

struct _StdiolinkEventBus {
	GObject parent_instance;

	StdiolinkLogWriter *log; /* nullable; created once the history is read */
	char *log_path;		 /* nullable */
	GPtrArray *early_lines;	 /* published while the history was being read */
	GList *early_flushes;	 /* GTask, flushes asked for meanwhile */
	GQueue ring;		 /* EventRecord, oldest first */
	guint64 published;
	gboolean history_loaded;
};

G_DEFINE_FINAL_TYPE(StdiolinkEventBus, stdiolink_event_bus, G_TYPE_OBJECT)

enum { SIGNAL_EVENT, SIGNAL_LAST };

static guint signals[SIGNAL_LAST];

typedef struct {
	char *type;
	JsonObject *data;
	char *ts;
} EventRecord;

static void
event_record_free(EventRecord *r)
{
	g_free(r->type);
	json_object_unref(r->data);
	g_free(r->ts);
	g_free(r);
}

static EventRecord *
event_record_new(const char *type, JsonObject *data, const char *ts)
{
	EventRecord *r = g_new0(EventRecord, 1);

	r->type = g_strdup(type);
	r->data = json_object_ref(data);
	r->ts = g_strdup(ts);
	return r;
}

static JsonNode *
event_record_to_json(const EventRecord *r)
{
	JsonObject *obj = json_object_new();
	JsonNode *node = json_node_new(JSON_NODE_OBJECT);

	json_object_set_string_member(obj, "type", r->type);
	json_object_set_object_member(obj, "data", json_object_ref(r->data));
	json_object_set_string_member(obj, "ts", r->ts);
	json_node_take_object(node, obj);
	return node;
}

static void
stdiolink_event_bus_finalize(GObject *object)
{
	StdiolinkEventBus *self = STDIOLINK_EVENT_BUS(object);

	g_queue_clear_full(&self->ring, (GDestroyNotify)event_record_free);
	g_clear_object(&self->log);
	g_ptr_array_unref(self->early_lines);
	g_free(self->log_path);
	G_OBJECT_CLASS(stdiolink_event_bus_parent_class)->finalize(object);
}

static void
stdiolink_event_bus_class_init(StdiolinkEventBusClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_event_bus_finalize;

	/**
	 * StdiolinkEventBus::event:
	 * @bus: the bus
	 * @type: the event type, e.g. `instance.started`
	 * @data: (transfer none): the event data (sealed: do not modify)
	 * @ts: publish time, UTC with milliseconds
	 *
	 * Emitted for every published event, after it was added to the ring and queued for
	 * the event log.
	 */
	signals[SIGNAL_EVENT] = g_signal_new("event",
					     G_TYPE_FROM_CLASS(klass),
					     G_SIGNAL_RUN_LAST,
					     0,
					     NULL,
					     NULL,
					     NULL,
					     G_TYPE_NONE,
					     3,
					     G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
					     JSON_TYPE_OBJECT | G_SIGNAL_TYPE_STATIC_SCOPE,
					     G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
stdiolink_event_bus_init(StdiolinkEventBus *self)
{
	g_queue_init(&self->ring);
	self->early_lines = g_ptr_array_new_with_free_func(g_free);
}

static void
ring_trim(StdiolinkEventBus *self)
{
	while (g_queue_get_length(&self->ring) > STDIOLINK_EVENT_BUS_RING_SIZE)
		event_record_free(g_queue_pop_head(&self->ring));
}

static EventRecord *
record_from_line(const char *line, gsize len)
{
	g_autoptr(JsonNode) node = NULL;
	JsonObject *obj;
	JsonNode *data;
	const char *type;
	const char *ts;

	if (len == 0)
		return NULL;
	node = stdiolink_json_parse(line, (gssize)len, NULL);
	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;

	obj = json_node_get_object(node);
	type = stdiolink_json_object_get_string(obj, "type");
	ts = stdiolink_json_object_get_string(obj, "ts");
	data = json_object_get_member(obj, "data");
	if (type == NULL || data == NULL || !JSON_NODE_HOLDS_OBJECT(data))
		return NULL;

	json_object_seal(json_node_get_object(data));
	return event_record_new(type, json_node_get_object(data), ts != NULL ? ts : "");
}

static char *
read_tail(const char *path, gboolean *partial_first)
{
	g_autoptr(GFile) file = g_file_new_for_path(path);
	g_autoptr(GFileInputStream) in = g_file_read(file, NULL, NULL);
	g_autoptr(GFileInfo) info = NULL;
	goffset size;
	goffset offset;
	char *buf;
	gsize got = 0;

	if (in == NULL)
		return NULL;
	info = g_file_input_stream_query_info(in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, NULL);
	size = info != NULL ? g_file_info_get_size(info) : 0;
	offset = size > HISTORY_TAIL_BYTES ? size - HISTORY_TAIL_BYTES : 0;
	if (offset > 0 && !g_seekable_seek(G_SEEKABLE(in), offset, G_SEEK_SET, NULL, NULL))
		return NULL;

	buf = g_malloc((gsize)(size - offset) + 1);
	g_input_stream_read_all(G_INPUT_STREAM(in), buf, (gsize)(size - offset), &got, NULL,
				NULL);
	buf[got] = '\0';
	*partial_first = offset > 0;
	return buf;
}

static void
history_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	const char *path = task_data;
	GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)event_record_free);
	gboolean partial_first = FALSE;
	g_autofree char *text = read_tail(path, &partial_first);
	const char *p = text;

	/* the first line of a mid-file read is cut; skip it */
	if (p != NULL && partial_first) {
		p = strchr(p, '\n');
		p = p != NULL ? p + 1 : NULL;
	}

	while (p != NULL && *p != '\0') {
		const char *nl = strchr(p, '\n');
		gsize len = nl != NULL ? (gsize)(nl - p) : strlen(p);
		EventRecord *r = record_from_line(p, len);

		if (r != NULL)
			g_ptr_array_add(records, r);
		if (records->len > STDIOLINK_EVENT_BUS_RING_SIZE)
			g_ptr_array_remove_index(records, 0);
		p = nl != NULL ? nl + 1 : NULL;
	}
	g_task_return_pointer(task, records, (GDestroyNotify)g_ptr_array_unref);
}

static void log_flushed_cb(GObject *source, GAsyncResult *res, gpointer user_data);

static void
history_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StdiolinkEventBus *self = STDIOLINK_EVENT_BUS(source);
	g_autoptr(GPtrArray) records = g_task_propagate_pointer(G_TASK(res), NULL);

	/* older than anything published meanwhile: they go before it, newest last */
	for (guint i = records != NULL ? records->len : 0; i > 0; i--) {
		EventRecord *r = g_ptr_array_steal_index(records, i - 1);

		g_queue_push_head(&self->ring, r);
	}
	ring_trim(self);
	self->history_loaded = TRUE;

	/* only now may this run write to the file the history was read from */
	self->log = stdiolink_log_writer_new(self->log_path, EVENTS_LOG_MAX_BYTES,
					     EVENTS_LOG_MAX_FILES);
	for (guint i = 0; i < self->early_lines->len; i++) {
		const char *line = g_ptr_array_index(self->early_lines, i);

		stdiolink_log_writer_append_line(self->log, line);
	}
	g_ptr_array_set_size(self->early_lines, 0);
	while (self->early_flushes != NULL) {
		GTask *task = self->early_flushes->data;

		self->early_flushes = g_list_delete_link(self->early_flushes, self->early_flushes);
		stdiolink_log_writer_flush_async(self->log, NULL, log_flushed_cb, task);
	}
}

/**
 * stdiolink_event_bus_new:
 * @events_log_path: (nullable): `logs/events.jsonl`; %NULL for no event log
 *
 * The ring is filled from the tail of the event log in the background; see
 * stdiolink_event_bus_is_history_loaded().
 *
 * Returns: (transfer full): a new bus
 */
StdiolinkEventBus *
stdiolink_event_bus_new(const char *events_log_path)
{
	StdiolinkEventBus *self = g_object_new(STDIOLINK_TYPE_EVENT_BUS, NULL);
	g_autoptr(GTask) task = NULL;

	if (events_log_path == NULL) {
		self->history_loaded = TRUE;
		return self;
	}

	self->log_path = g_strdup(events_log_path);
	task = g_task_new(self, NULL, history_cb, NULL);
	g_task_set_source_tag(task, stdiolink_event_bus_new);
	g_task_set_task_data(task, g_strdup(events_log_path), g_free);
	g_task_run_in_thread(task, history_thread);
	return self;
}

/**
 * stdiolink_event_bus_is_history_loaded:
 * @bus: a bus
 *
 * Returns: %TRUE once the events of the previous run are in the ring (or there is no log)
 */
gboolean
stdiolink_event_bus_is_history_loaded(StdiolinkEventBus *bus)
{
	g_return_val_if_fail(STDIOLINK_IS_EVENT_BUS(bus), FALSE);
	return bus->history_loaded;
}

/**
 * stdiolink_event_bus_publish:
 * @bus: a bus
 * @type: the event type (events.md 1.1)
 * @data: (transfer full) (nullable): the event data; sealed by this call
 *
 * Stamps the event with the current time, adds it to the ring, appends it to the event log
 * and emits #StdiolinkEventBus::event, in that order.
 */
void
stdiolink_event_bus_publish(StdiolinkEventBus *bus, const char *type, JsonObject *data)
{
	g_autoptr(JsonObject) owned = data != NULL ? data : json_object_new();
	g_autofree char *ts = stdiolink_now_iso8601(TRUE);
	EventRecord *r;

	g_return_if_fail(STDIOLINK_IS_EVENT_BUS(bus));
	g_return_if_fail(type != NULL);

	/* every consumer shares the object, so nobody may change it */
	json_object_seal(owned);
	r = event_record_new(type, owned, ts);
	g_queue_push_tail(&bus->ring, r);
	ring_trim(bus);
	bus->published++;

	if (bus->log_path != NULL) {
		g_autoptr(JsonNode) node = event_record_to_json(r);
		g_autofree char *line = stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);

		if (bus->log != NULL)
			stdiolink_log_writer_append_line(bus->log, line);
		else
			g_ptr_array_add(bus->early_lines, g_steal_pointer(&line));
	}

	g_signal_emit(bus, signals[SIGNAL_EVENT], 0, type, owned, ts);
}

/**
 * stdiolink_event_bus_get_published_count:
 * @bus: a bus
 *
 * Returns: how many events were published since the bus was created
 */
guint64
stdiolink_event_bus_get_published_count(StdiolinkEventBus *bus)
{
	g_return_val_if_fail(STDIOLINK_IS_EVENT_BUS(bus), 0);
	return bus->published;
}

static gboolean
record_matches(const EventRecord *r, const char *type_prefix, const char *project_id)
{
	if (type_prefix != NULL && *type_prefix != '\0' && !g_str_has_prefix(r->type, type_prefix))
		return FALSE;
	if (project_id != NULL && *project_id != '\0') {
		const char *pid = stdiolink_json_object_get_string(r->data, "projectId");

		if (g_strcmp0(pid, project_id) != 0)
			return FALSE;
	}
	return TRUE;
}

/**
 * stdiolink_event_bus_query:
 * @bus: a bus
 * @limit: at most this many events; <= 0 means 100, more than 1000 means 1000
 * @type_prefix: (nullable): if non-empty, keep events whose type starts with it
 * @project_id: (nullable): if non-empty, keep events whose `data.projectId` equals it
 *
 * Reads the ring, newest first (http-api.md 8.1).
 *
 * Returns: (transfer full): `{"events":[{"type","data","ts"}...],"count":n}`
 */
JsonNode *
stdiolink_event_bus_query(StdiolinkEventBus *bus,
			  gint limit,
			  const char *type_prefix,
			  const char *project_id)
{
	JsonArray *events;
	JsonObject *obj;
	JsonNode *node;

	g_return_val_if_fail(STDIOLINK_IS_EVENT_BUS(bus), NULL);

	events = json_array_new();
	if (limit <= 0)
		limit = QUERY_DEFAULT_LIMIT;
	limit = MIN(limit, STDIOLINK_EVENT_BUS_RING_SIZE);

	for (GList *l = bus->ring.tail; l != NULL; l = l->prev) {
		const EventRecord *r = l->data;

		if ((gint)json_array_get_length(events) >= limit)
			break;
		if (record_matches(r, type_prefix, project_id))
			json_array_add_element(events, event_record_to_json(r));
	}

	obj = json_object_new();
	json_object_set_int_member(obj, "count", json_array_get_length(events));
	json_object_set_array_member(obj, "events", events);
	node = json_node_new(JSON_NODE_OBJECT);
	json_node_take_object(node, obj);
	return node;
}

static void
log_flushed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = G_TASK(user_data);
	GError *error = NULL;

	if (!stdiolink_log_writer_flush_finish(STDIOLINK_LOG_WRITER(source), res, &error))
		g_task_return_error(task, error);
	else
		g_task_return_boolean(task, TRUE);
}

/**
 * stdiolink_event_bus_flush_async:
 * @bus: a bus
 * @c: (nullable): a #GCancellable
 * @cb: called when the events published so far are in the event log
 * @data: data for @cb
 *
 * For an orderly shutdown (and tests): waits, without blocking, for the event log writes.
 */
void
stdiolink_event_bus_flush_async(StdiolinkEventBus *bus,
				GCancellable *c,
				GAsyncReadyCallback cb,
				gpointer data)
{
	g_autoptr(GTask) task = NULL;

	g_return_if_fail(STDIOLINK_IS_EVENT_BUS(bus));

	task = g_task_new(bus, c, cb, data);
	g_task_set_source_tag(task, stdiolink_event_bus_flush_async);
	if (bus->log_path == NULL) {
		g_task_return_boolean(task, TRUE);
		return;
	}
	if (bus->log == NULL) {
		bus->early_flushes = g_list_append(bus->early_flushes, g_steal_pointer(&task));
		return;
	}
	stdiolink_log_writer_flush_async(bus->log, NULL, log_flushed_cb, g_steal_pointer(&task));
}

/**
 * stdiolink_event_bus_flush_finish:
 * @bus: a bus
 * @res: the result passed to the callback
 * @error: return location for a #GError
 *
 * Returns: %TRUE if the events were written; %FALSE with the write error otherwise
 */
gboolean
stdiolink_event_bus_flush_finish(StdiolinkEventBus *bus, GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, bus), FALSE);
	return g_task_propagate_boolean(G_TASK(res), error);
}

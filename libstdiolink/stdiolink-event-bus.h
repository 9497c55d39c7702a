#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* how many events the in-memory ring keeps for GET /api/events */
#define STDIOLINK_EVENT_BUS_RING_SIZE 1000

#define STDIOLINK_TYPE_EVENT_BUS (stdiolink_event_bus_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkEventBus, stdiolink_event_bus, STDIOLINK, EVENT_BUS, GObject)

StdiolinkEventBus *stdiolink_event_bus_new(const char *events_log_path);
void stdiolink_event_bus_publish(StdiolinkEventBus *bus, const char *type, JsonObject *data);
JsonNode *stdiolink_event_bus_query(StdiolinkEventBus *bus,
				    gint limit,
				    const char *type_prefix,
				    const char *project_id);
guint64 stdiolink_event_bus_get_published_count(StdiolinkEventBus *bus);
gboolean stdiolink_event_bus_is_history_loaded(StdiolinkEventBus *bus);
void stdiolink_event_bus_flush_async(StdiolinkEventBus *bus,
				     GCancellable *c,
				     GAsyncReadyCallback cb,
				     gpointer data);
gboolean stdiolink_event_bus_flush_finish(StdiolinkEventBus *bus,
					  GAsyncResult *res,
					  GError **error);

G_END_DECLS

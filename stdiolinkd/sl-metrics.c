#include "config.h"

#include <string.h>

#include "sl-metrics.h"

#define ROUTE_KEY "sl-metrics-route"
#define START_KEY "sl-metrics-start"

/* upper bounds of the latency buckets, in seconds */
static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
					0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

struct _SlMetrics {
	GHashTable *requests; /* "route\nstatus" -> count (guint64 in a pointer-sized box) */
	guint64 buckets[G_N_ELEMENTS(latency_bounds)];
	guint64 count;
	double sum;
};

SlMetrics *
sl_metrics_new(void)
{
	SlMetrics *self = g_new0(SlMetrics, 1);

	self->requests = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return self;
}

void
sl_metrics_free(SlMetrics *self)
{
	g_hash_table_unref(self->requests);
	g_free(self);
}

/**
 * sl_metrics_set_route:
 * @msg: a request
 * @route: (transfer none): the route pattern that took it, a static string
 *
 * Labels the request by its pattern, not its path, so that ids do not multiply series.
 */
void
sl_metrics_set_route(SoupServerMessage *msg, const char *route)
{
	g_object_set_data(G_OBJECT(msg), ROUTE_KEY, (gpointer)route);
}

void
sl_metrics_request_started(SlMetrics *self, SoupServerMessage *msg)
{
	gint64 *start = g_new(gint64, 1);

	*start = g_get_monotonic_time();
	g_object_set_data_full(G_OBJECT(msg), START_KEY, start, g_free);
}

void
sl_metrics_request_finished(SlMetrics *self, SoupServerMessage *msg)
{
	const char *route = g_object_get_data(G_OBJECT(msg), ROUTE_KEY);
	gint64 *start = g_object_get_data(G_OBJECT(msg), START_KEY);
	g_autofree char *key = g_strdup_printf("%s\n%u", route != NULL ? route : "other",
					       soup_server_message_get_status(msg));
	guint64 *counter = g_hash_table_lookup(self->requests, key);
	double seconds;

	if (counter == NULL) {
		counter = g_new0(guint64, 1);
		g_hash_table_insert(self->requests, g_steal_pointer(&key), counter);
	}
	(*counter)++;

	if (start == NULL)
		return;
	seconds = (g_get_monotonic_time() - *start) / (double)G_USEC_PER_SEC;
	self->count++;
	self->sum += seconds;
	for (guint i = 0; i < G_N_ELEMENTS(latency_bounds); i++) {
		if (seconds <= latency_bounds[i])
			self->buckets[i]++;
	}
}

static void
render_requests(SlMetrics *self, GString *out)
{
	g_autoptr(GList) keys = g_list_sort(g_hash_table_get_keys(self->requests),
					    (GCompareFunc)strcmp);

	g_string_append(out, "# HELP stdiolinkd_http_requests_total HTTP requests answered, "
			     "by route and status.\n"
			     "# TYPE stdiolinkd_http_requests_total counter\n");
	for (GList *l = keys; l != NULL; l = l->next) {
		g_auto(GStrv) parts = g_strsplit(l->data, "\n", 2);
		guint64 *counter = g_hash_table_lookup(self->requests, l->data);

		g_string_append_printf(out,
				       "stdiolinkd_http_requests_total{route=\"%s\",status=\"%s\"} "
				       "%" G_GUINT64_FORMAT "\n",
				       parts[0], parts[1], *counter);
	}
}

static void
render_latency(SlMetrics *self, GString *out)
{
	const char *name = "stdiolinkd_http_request_duration_seconds";
	g_autofree char *sum = stdiolink_json_format_number(self->sum);

	g_string_append_printf(out,
			       "# HELP %s Time from request headers to the answer.\n"
			       "# TYPE %s histogram\n",
			       name, name);
	for (guint i = 0; i < G_N_ELEMENTS(latency_bounds); i++) {
		g_autofree char *bound = stdiolink_json_format_number(latency_bounds[i]);

		g_string_append_printf(out, "%s_bucket{le=\"%s\"} %" G_GUINT64_FORMAT "\n", name,
				       bound, self->buckets[i]);
	}
	g_string_append_printf(out,
			       "%s_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n"
			       "%s_sum %s\n%s_count %" G_GUINT64_FORMAT "\n",
			       name, self->count, name, sum, name, self->count);
}

static void
render_gauge(GString *out, const char *name, const char *help, const char *type, double value)
{
	g_autofree char *text = stdiolink_json_format_number(value);

	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %s\n", name, help, name, type,
			       name, text);
}

static void
render_instances(StdiolinkEngine *engine, GString *out)
{
	StdiolinkInstanceManager *manager = stdiolink_engine_get_instance_manager(engine);
	g_autoptr(GPtrArray) live = stdiolink_instance_manager_list(manager, NULL);
	guint starting = 0;

	for (guint i = 0; i < live->len; i++) {
		if (stdiolink_instance_get_state(live->pdata[i]) == STDIOLINK_INSTANCE_STARTING)
			starting++;
	}
	g_string_append_printf(out,
			       "# HELP stdiolinkd_instances Live instances by state.\n"
			       "# TYPE stdiolinkd_instances gauge\n"
			       "stdiolinkd_instances{state=\"starting\"} %u\n"
			       "stdiolinkd_instances{state=\"running\"} %u\n",
			       starting, live->len - starting);
}

/* the jobs still kept, finished ones included until they are forgotten */
static void
render_jobs(StdiolinkEngine *engine, GString *out)
{
	guint counts[STDIOLINK_JOB_N_STATUS] = {0};

	stdiolink_job_manager_count_by_status(stdiolink_engine_get_job_manager(engine), counts);
	g_string_append(out, "# HELP stdiolinkd_jobs Scan jobs kept, by state.\n"
			     "# TYPE stdiolinkd_jobs gauge\n");
	for (guint i = 0; i < STDIOLINK_JOB_N_STATUS; i++)
		g_string_append_printf(out, "stdiolinkd_jobs{state=\"%s\"} %u\n",
				       stdiolink_job_status_to_string(i), counts[i]);
}

static void
render_sse(SlSse *sse, GString *out)
{
	render_gauge(out, "stdiolinkd_sse_subscribers", "Open event streams.", "gauge",
		     sl_sse_get_stream_count(sse));
	render_gauge(out, "stdiolinkd_sse_dropped_streams_total",
		     "Event streams closed because their client stopped reading.", "counter",
		     (double)sl_sse_get_dropped_streams(sse));
	render_gauge(out, "stdiolinkd_sse_evicted_streams_total",
		     "Event streams closed to make room under the stream limit.", "counter",
		     (double)sl_sse_get_evicted_streams(sse));
	render_gauge(out, "stdiolinkd_events_dropped_total",
		     "Events not delivered to a stream that was dropped.", "counter",
		     (double)sl_sse_get_dropped_events(sse));
}

/**
 * sl_metrics_render:
 * @self: the collected request figures
 * @engine: the engine, for its gauges
 * @sse: the event streams, for their counters
 *
 * Returns: (transfer full): the Prometheus text exposition (format 0.0.4)
 */
char *
sl_metrics_render(SlMetrics *self, StdiolinkEngine *engine, SlSse *sse)
{
	GString *out = g_string_new(NULL);
	g_autoptr(JsonNode) status = stdiolink_engine_get_status(engine);
	JsonObject *loop = json_object_get_object_member(json_node_get_object(status), "mainLoop");
	StdiolinkEventBus *bus = stdiolink_engine_get_event_bus(engine);

	render_requests(self, out);
	render_latency(self, out);
	render_gauge(out, "stdiolinkd_main_loop_lag_seconds",
		     "How late the last main-loop probe ran.", "gauge",
		     json_object_get_double_member(loop, "lagMs") / 1000.0);
	render_gauge(out, "stdiolinkd_main_loop_lag_max_seconds",
		     "The worst main-loop lag since start.", "gauge",
		     json_object_get_double_member(loop, "maxLagMs") / 1000.0);
	render_instances(engine, out);
	render_jobs(engine, out);
	render_gauge(out, "stdiolinkd_events_published_total", "Events published on the bus.",
		     "counter", (double)stdiolink_event_bus_get_published_count(bus));
	render_sse(sse, out);
	return g_string_free(out, FALSE);
}

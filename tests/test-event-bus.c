#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

static JsonObject *
data_for(const char *project_id, gint n)
{
	JsonObject *data = json_object_new();

	if (project_id != NULL)
		json_object_set_string_member(data, "projectId", project_id);
	json_object_set_int_member(data, "n", n);
	return data;
}

static void
wait_history(StdiolinkEventBus *bus)
{
	while (!stdiolink_event_bus_is_history_loaded(bus))
		g_main_context_iteration(NULL, TRUE);
}

typedef struct {
	guint calls;
	char *type;
	char *data;
	char *ts;
	gboolean sealed;
} Seen;

static void
event_cb(StdiolinkEventBus *bus, const char *type, JsonObject *data, const char *ts, Seen *seen)
{
	seen->calls++;
	g_free(seen->type);
	g_free(seen->data);
	g_free(seen->ts);
	seen->type = g_strdup(type);
	seen->data = stdiolink_json_object_to_string(data, STDIOLINK_JSON_COMPACT);
	seen->ts = g_strdup(ts);
	seen->sealed = json_object_is_immutable(data);
}

static void
test_signal_func(void)
{
	g_autoptr(StdiolinkEventBus) bus = stdiolink_event_bus_new(NULL);
	Seen seen = {0};
	JsonObject *data = json_object_new();

	g_assert_true(stdiolink_event_bus_is_history_loaded(bus));
	g_signal_connect(bus, "event", G_CALLBACK(event_cb), &seen);

	json_object_set_string_member(data, "projectId", "p1");
	json_object_set_double_member(data, "ratio", 0.1);
	stdiolink_event_bus_publish(bus, "schedule.triggered", data);

	g_assert_cmpuint(seen.calls, ==, 1);
	g_assert_cmpstr(seen.type, ==, "schedule.triggered");
	g_assert_cmpstr(seen.data, ==, "{\"projectId\":\"p1\",\"ratio\":0.1}");
	g_assert_true(seen.sealed);
	g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$",
					   seen.ts, 0, 0));

	/* no data is an empty object */
	stdiolink_event_bus_publish(bus, "x.y", NULL);
	g_assert_cmpstr(seen.data, ==, "{}");
	g_assert_cmpuint(stdiolink_event_bus_get_published_count(bus), ==, 2);

	g_free(seen.type);
	g_free(seen.data);
	g_free(seen.ts);
}

static char *
query_string(StdiolinkEventBus *bus, gint limit, const char *type, const char *project)
{
	g_autoptr(JsonNode) node = stdiolink_event_bus_query(bus, limit, type, project);
	JsonObject *obj = json_node_get_object(node);
	JsonArray *events = json_object_get_array_member(obj, "events");
	GString *out = g_string_new(NULL);

	/* "type:n" per event, newest first */
	g_assert_cmpint(json_object_get_int_member(obj, "count"), ==,
			json_array_get_length(events));
	for (guint i = 0; i < json_array_get_length(events); i++) {
		JsonObject *ev = json_array_get_object_element(events, i);
		JsonObject *data = json_object_get_object_member(ev, "data");

		g_assert_true(json_object_has_member(ev, "ts"));
		g_string_append_printf(out, "%s%s:%" G_GINT64_FORMAT, i > 0 ? " " : "",
				       json_object_get_string_member(ev, "type"),
				       json_object_get_int_member(data, "n"));
	}
	return g_string_free(out, FALSE);
}

static void
test_query_func(void)
{
	g_autoptr(StdiolinkEventBus) bus = stdiolink_event_bus_new(NULL);
	const struct {
		const char *limit_type;
		gint limit;
		const char *type;
		const char *project;
		const char *expected;
	} cases[] = {
		{"all", 0, NULL, NULL,
		 "schedule.suppressed:5 instance.finished:4 instance.startFailed:3 "
		 "instance.started:2 schedule.triggered:1"},
		{"limit", 2, "", "", "schedule.suppressed:5 instance.finished:4"},
		{"negative", -3, NULL, NULL,
		 "schedule.suppressed:5 instance.finished:4 instance.startFailed:3 "
		 "instance.started:2 schedule.triggered:1"},
		{"type", 0, "instance", NULL,
		 "instance.finished:4 instance.startFailed:3 instance.started:2"},
		{"type exact", 0, "instance.started", NULL,
		 "instance.started:2"},
		{"project", 0, NULL, "p1", "instance.startFailed:3 instance.started:2 "
					   "schedule.triggered:1"},
		{"both", 1, "instance", "p1", "instance.startFailed:3"},
		{"none", 0, "job", NULL, ""},
	};

	stdiolink_event_bus_publish(bus, "schedule.triggered", data_for("p1", 1));
	stdiolink_event_bus_publish(bus, "instance.started", data_for("p1", 2));
	stdiolink_event_bus_publish(bus, "instance.startFailed", data_for("p1", 3));
	stdiolink_event_bus_publish(bus, "instance.finished", data_for("p2", 4));
	stdiolink_event_bus_publish(bus, "schedule.suppressed", data_for(NULL, 5));

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *got = query_string(bus, cases[i].limit, cases[i].type,
						    cases[i].project);

		g_test_message("case %s", cases[i].limit_type);
		g_assert_cmpstr(got, ==, cases[i].expected);
	}
}

static void
test_ring_func(void)
{
	g_autoptr(StdiolinkEventBus) bus = stdiolink_event_bus_new(NULL);
	g_autoptr(JsonNode) all = NULL;
	g_autoptr(JsonNode) dflt = NULL;
	JsonArray *events;
	JsonObject *last;

	for (gint i = 1; i <= 1100; i++)
		stdiolink_event_bus_publish(bus, "t", data_for(NULL, i));

	/* the ring keeps the last 1000; a limit above that is capped, 0 means 100 */
	all = stdiolink_event_bus_query(bus, 5000, NULL, NULL);
	events = json_object_get_array_member(json_node_get_object(all), "events");
	g_assert_cmpuint(json_array_get_length(events), ==, 1000);
	last = json_object_get_object_member(json_array_get_object_element(events, 999), "data");
	g_assert_cmpint(json_object_get_int_member(last, "n"), ==, 101);

	dflt = stdiolink_event_bus_query(bus, 0, NULL, NULL);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(dflt), "count"), ==, 100);
}

static void
test_log_file_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-bus-XXXXXX");
	g_autofree char *path = g_build_filename(root, "logs", "events.jsonl", NULL);
	g_autoptr(StdiolinkEventBus) bus = stdiolink_event_bus_new(path);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	JsonObject *data = json_object_new();

	wait_history(bus);
	json_object_set_string_member(data, "status", "normal");
	json_object_set_int_member(data, "exitCode", 0);
	json_object_set_string_member(data, "projectId", "p1");
	json_object_set_string_member(data, "instanceId", "inst_1a2b3c4d");
	stdiolink_event_bus_publish(bus, "instance.finished", data);
	stdiolink_event_bus_publish(bus, "schedule.triggered", data_for("p2", 7));
	sl_test_flush_bus(bus);

	/* one compact record per line, keys sorted */
	text = sl_test_read_file(path);
	lines = g_strsplit(text, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	g_assert_true(g_regex_match_simple(
		"^\\{\"data\":\\{\"exitCode\":0,\"instanceId\":\"inst_1a2b3c4d\","
		"\"projectId\":\"p1\",\"status\":\"normal\"\\},"
		"\"ts\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\","
		"\"type\":\"instance.finished\"\\}$",
		lines[0], 0, 0));
	g_assert_true(g_str_has_suffix(lines[1], "\"type\":\"schedule.triggered\"}"));
	g_assert_cmpstr(lines[2], ==, "");

	g_clear_object(&bus);
	sl_test_remove_tree(root);
}

static void
test_history_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-bus-XXXXXX");
	g_autofree char *path = g_build_filename(root, "events.jsonl", NULL);
	g_autoptr(StdiolinkEventBus) bus = NULL;
	g_autofree char *got = NULL;
	const char *old =
		"{\"data\":{\"n\":1,\"projectId\":\"p1\"},\"ts\":\"2025-01-02T03:04:05.678Z\","
		"\"type\":\"instance.started\"}\n"
		"not json\n"
		"\n"
		"[1,2]\n"
		"{\"type\":\"no.data\"}\n"
		"{\"data\":{\"n\":2},\"ts\":\"2025-01-02T03:04:06.000Z\",\"type\":\"instance."
		"finished\"}\n"
		"{\"data\":{\"n\":3},\"ts\":\"2025-01-02T03:04:07.000Z\",\"type\":\"cut";

	/* the events of an earlier run come back, older than anything published now */
	g_assert_true(g_file_set_contents(path, old, -1, NULL));
	bus = stdiolink_event_bus_new(path);
	stdiolink_event_bus_publish(bus, "schedule.triggered", data_for("p1", 9));
	wait_history(bus);

	got = query_string(bus, 0, NULL, NULL);
	g_assert_cmpstr(got, ==, "schedule.triggered:9 instance.finished:2 instance.started:1");
	g_clear_pointer(&got, g_free);
	got = query_string(bus, 0, NULL, "p1");
	g_assert_cmpstr(got, ==, "schedule.triggered:9 instance.started:1");
	sl_test_flush_bus(bus);

	g_clear_object(&bus);
	sl_test_remove_tree(root);
}

static void
test_history_tail_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-bus-XXXXXX");
	g_autofree char *path = g_build_filename(root, "events.jsonl", NULL);
	g_autoptr(StdiolinkEventBus) bus = NULL;
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *pad = g_strnfill(1000, 'p');
	g_autoptr(JsonNode) node = NULL;
	JsonArray *events;
	JsonObject *newest;

	/* about 5 MB: only the last 4 MiB are read, and the ring keeps 1000 of them */
	for (gint i = 1; i <= 5000; i++)
		g_string_append_printf(text,
				       "{\"data\":{\"n\":%d,\"pad\":\"%s\"},\"ts\":\"t\","
				       "\"type\":\"t\"}\n",
				       i, pad);
	g_assert_true(g_file_set_contents(path, text->str, (gssize)text->len, NULL));
	bus = stdiolink_event_bus_new(path);
	wait_history(bus);

	node = stdiolink_event_bus_query(bus, 1000, NULL, NULL);
	events = json_object_get_array_member(json_node_get_object(node), "events");
	g_assert_cmpuint(json_array_get_length(events), ==, 1000);
	newest = json_object_get_object_member(json_array_get_object_element(events, 0), "data");
	g_assert_cmpint(json_object_get_int_member(newest, "n"), ==, 5000);

	g_clear_object(&bus);
	sl_test_remove_tree(root);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/event-bus/signal", test_signal_func);
	g_test_add_func("/event-bus/query", test_query_func);
	g_test_add_func("/event-bus/ring", test_ring_func);
	g_test_add_func("/event-bus/log-file", test_log_file_func);
	g_test_add_func("/event-bus/history", test_history_func);
	g_test_add_func("/event-bus/history-tail", test_history_tail_func);
	return g_test_run();
}

#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gstdio.h>

#include "sl-daemon-fixture.h"
#include "sl-test-utils.h"

/*
 * The scheduler through the real daemon: what starts by itself, what is restarted, what is
 * suppressed, and what the runtime routes report. Tests assert the order and number of
 * events in logs/events.jsonl, not how fast things happen.
 */

/* the schema of the test service: the knobs of sl-test-service these tests use */
static const char *test_schema =
    "{\"exitCode\":{\"type\":\"int\",\"default\":0},"
    "\"sleepMs\":{\"type\":\"int\",\"default\":0,\"constraints\":{\"min\":0}},"
    "\"ignoreTerm\":{\"type\":\"bool\",\"default\":false},"
    "\"crash\":{\"type\":\"string\"},"
    "\"spawnChild\":{\"type\":\"string\"},"
    "\"stdout\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"port\":{\"type\":\"int\",\"default\":8080,\"constraints\":{\"min\":1,\"max\":65535}}}";

#define SLEEPER "{\"sleepMs\":60000}"

/* long enough for a wrongly scheduled start to show up in the events */
#define SETTLE_US (400 * 1000)

static JsonObject *
object_of(JsonNode *node)
{
	g_assert_nonnull(node);
	g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
	return json_node_get_object(node);
}

static void
setup(SlDaemonFixture *fx)
{
	sl_daemon_fixture_init(fx);
	sl_daemon_fixture_add_test_service(fx, "svc", test_schema);
}

static char *
daemon_schedule(gint restart_delay_ms, gint max_failures)
{
	return g_strdup_printf("{\"type\":\"daemon\",\"restartDelayMs\":%d,"
			       "\"maxConsecutiveFailures\":%d}",
			       restart_delay_ms, max_failures);
}

static char *
fixed_rate_schedule(gint interval_ms, gint max_concurrent)
{
	return g_strdup_printf("{\"type\":\"fixed_rate\",\"intervalMs\":%d,\"maxConcurrent\":%d}",
			       interval_ms, max_concurrent);
}

/* a project written by hand, disabled */
static void
add_disabled_project(SlDaemonFixture *fx, const char *id, const char *schedule)
{
	g_autofree char *config = g_strdup_printf(
	    "{\"name\":\"Project %s\",\"serviceId\":\"svc\",\"enabled\":false,\"schedule\":%s}",
	    id, schedule);
	g_autofree char *rel_config = g_build_filename("projects", id, "config.json", NULL);

	sl_daemon_fixture_write(fx, rel_config, config);
}

/* ---- events ------------------------------------------------------------------------------ */

/*
 * The events of one project (all when NULL), oldest first, each `{type, data, ts}`; the
 * job events of the start-up scans are left out.
 */
static GPtrArray *
read_events(SlDaemonFixture *fx, const char *project_id)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, "logs/events.jsonl");
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *events = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return events;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(JsonNode) node = NULL;
		JsonObject *data;

		/* the writer may be half-way through the last line */
		if (*lines[i] == '\0' || lines[i + 1] == NULL)
			continue;
		node = stdiolink_json_parse(lines[i], -1, NULL);
		g_assert_nonnull(node);
		if (g_str_has_prefix(stdiolink_json_object_get_string(object_of(node), "type"),
				     "job."))
			continue;
		data = stdiolink_json_object_get_object(object_of(node), "data");
		if (project_id != NULL &&
		    g_strcmp0(stdiolink_json_object_get_string(data, "projectId"), project_id) != 0)
			continue;
		g_ptr_array_add(events, json_object_ref(object_of(node)));
	}
	return events;
}

static const char *
event_type(GPtrArray *events, guint i)
{
	return stdiolink_json_object_get_string(events->pdata[i], "type");
}

static JsonObject *
event_data(GPtrArray *events, guint i)
{
	return stdiolink_json_object_get_object(events->pdata[i], "data");
}

static guint
count_type(GPtrArray *events, const char *type)
{
	guint n = 0;

	for (guint i = 0; i < events->len; i++) {
		if (g_strcmp0(event_type(events, i), type) == 0)
			n++;
	}
	return n;
}

static guint
count_events(SlDaemonFixture *fx, const char *project_id, const char *type)
{
	g_autoptr(GPtrArray) events = read_events(fx, project_id);

	return count_type(events, type);
}

typedef struct {
	const char *project_id;
	const char *type;
	guint n;
} EventWait;

static gboolean
events_reached_cb(SlDaemonFixture *fx, gpointer data)
{
	EventWait *w = data;

	return count_events(fx, w->project_id, w->type) >= w->n;
}

static void
wait_events(SlDaemonFixture *fx, const char *project_id, const char *type, guint n)
{
	EventWait w = {project_id, type, n};

	g_assert_true(sl_daemon_fixture_wait(fx, events_reached_cb, &w));
}

/*
 * events.md 1.2 for every instance seen: `startFailed` at most once, `finished` exactly
 * once and last, `started` (if any) before it.
 */
static void
assert_instance_sequences(GPtrArray *events)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	gpointer key;

	for (guint i = 0; i < events->len; i++) {
		const char *id = stdiolink_json_object_get_string(event_data(events, i),
								  "instanceId");

		if (id != NULL)
			g_hash_table_add(seen, (gpointer)id);
	}
	g_hash_table_iter_init(&iter, seen);
	while (g_hash_table_iter_next(&iter, &key, NULL)) {
		gint started = -1, finished = -1;
		guint n_started = 0, n_failed = 0, n_finished = 0;

		for (guint i = 0; i < events->len; i++) {
			const char *type = event_type(events, i);

			if (g_strcmp0(stdiolink_json_object_get_string(event_data(events, i),
								       "instanceId"), key) != 0)
				continue;
			g_assert_cmpint(finished, ==, -1);
			if (g_str_equal(type, "instance.started")) {
				started = (gint)i;
				n_started++;
			} else if (g_str_equal(type, "instance.startFailed")) {
				n_failed++;
			} else if (g_str_equal(type, "instance.finished")) {
				finished = (gint)i;
				n_finished++;
			}
		}
		g_assert_cmpuint(n_started, <=, 1);
		g_assert_cmpuint(n_failed, <=, 1);
		g_assert_cmpuint(n_finished, ==, 1);
		g_assert_cmpint(started, <, finished);
	}
}

/* ---- requests ---------------------------------------------------------------------------- */

static JsonNode *
request(SlDaemonFixture *fx, const char *method, const char *path, const char *body,
	guint expected_status)
{
	guint status = 0;
	JsonNode *node = sl_daemon_fixture_request(fx, method, path, body, &status);

	g_assert_cmpuint(status, ==, expected_status);
	return node;
}

static JsonNode *
get_runtime(SlDaemonFixture *fx, const char *id)
{
	g_autofree char *path = g_strdup_printf("/api/projects/%s/runtime", id);

	return request(fx, "GET", path, NULL, 200);
}

static JsonObject *
schedule_of(JsonNode *runtime)
{
	return json_object_get_object_member(object_of(runtime), "schedule");
}

static gboolean
schedule_flag(JsonNode *runtime, const char *flag)
{
	return json_object_get_boolean_member(schedule_of(runtime), flag);
}

static gint64
schedule_failures(JsonNode *runtime)
{
	return json_object_get_int_member(schedule_of(runtime), "consecutiveFailures");
}

static void
post_expect(SlDaemonFixture *fx, const char *id, const char *verb, guint expected_status)
{
	g_autofree char *path = g_strdup_printf("/api/projects/%s/%s", id, verb);
	g_autoptr(JsonNode) node = request(fx, "POST", path, NULL, expected_status);
}

static JsonNode *
patch_enabled(SlDaemonFixture *fx, const char *id, const char *body, guint expected_status)
{
	g_autofree char *path = g_strdup_printf("/api/projects/%s/enabled", id);

	return request(fx, "PATCH", path, body, expected_status);
}

typedef struct {
	const char *project_id;
	guint n;
} InstanceWait;

static gboolean
instances_are_cb(SlDaemonFixture *fx, gpointer data)
{
	InstanceWait *w = data;

	return sl_daemon_fixture_count_instances(fx, w->project_id) == w->n;
}

static void
wait_instances(SlDaemonFixture *fx, const char *project_id, guint n)
{
	InstanceWait w = {project_id, n};

	g_assert_true(sl_daemon_fixture_wait(fx, instances_are_cb, &w));
}

/* the id of the project's only live instance */
static char *
only_instance(SlDaemonFixture *fx, const char *project_id)
{
	g_autofree char *path = g_strdup_printf("/api/instances?projectId=%s", project_id);
	g_autoptr(JsonNode) node = request(fx, "GET", path, NULL, 200);
	JsonArray *list = json_object_get_array_member(object_of(node), "instances");

	g_assert_cmpuint(json_array_get_length(list), ==, 1);
	return g_strdup(
	    json_object_get_string_member(json_array_get_object_element(list, 0), "id"));
}

static gboolean
file_contains_cb(SlDaemonFixture *fx, gpointer data)
{
	const char *const *what = data;
	g_autofree char *path = sl_daemon_fixture_path(fx, what[0]);
	g_autofree char *text = NULL;

	return g_file_get_contents(path, &text, NULL, NULL) && strstr(text, what[1]) != NULL;
}

static void
wait_file_contains(SlDaemonFixture *fx, const char *relative, const char *needle)
{
	const char *what[] = {relative, needle};

	g_assert_true(sl_daemon_fixture_wait(fx, file_contains_cb, what));
}

static JsonObject *
read_json_file(SlDaemonFixture *fx, const char *relative)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, relative);
	g_autofree char *text = sl_test_read_file(path);
	g_autoptr(JsonNode) node = stdiolink_json_parse(text, -1, NULL);

	return json_object_ref(object_of(node));
}

/* ---- manual, disabled, invalid ---------------------------------------------------------- */

/* only enabled, valid fixed_rate and daemon projects start by themselves */
static void
test_never_started_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *daemon = daemon_schedule(0, 5);
	g_autofree char *fixed = fixed_rate_schedule(100, 1);
	g_autoptr(GPtrArray) events = NULL;
	JsonNode *runtime;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "manual", "svc", NULL, SLEEPER);
	sl_daemon_fixture_add_project(&fx, "invalid", "svc", daemon, "{\"port\":70000}");
	sl_daemon_fixture_add_project(&fx, "orphan", "missing", daemon, SLEEPER);
	add_disabled_project(&fx, "off-daemon", daemon);
	add_disabled_project(&fx, "off-fixed", fixed);
	sl_daemon_fixture_start(&fx);

	g_usleep(SETTLE_US);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, NULL), ==, 0);
	events = read_events(&fx, NULL);
	g_assert_cmpuint(events->len, ==, 0);

	runtime = get_runtime(&fx, "manual");
	g_assert_cmpstr(json_object_get_string_member(schedule_of(runtime), "type"), ==,
			"manual");
	g_assert_false(schedule_flag(runtime, "timerActive"));
	g_assert_false(schedule_flag(runtime, "autoRestarting"));
	g_assert_false(schedule_flag(runtime, "restartSuppressed"));
	g_assert_false(schedule_flag(runtime, "shuttingDown"));
	json_node_unref(runtime);

	runtime = get_runtime(&fx, "off-fixed");
	g_assert_false(schedule_flag(runtime, "timerActive"));
	g_assert_cmpstr(json_object_get_string_member(object_of(runtime), "status"), ==,
			"disabled");
	json_node_unref(runtime);

	runtime = get_runtime(&fx, "invalid");
	g_assert_false(schedule_flag(runtime, "autoRestarting"));
	g_assert_cmpstr(json_object_get_string_member(object_of(runtime), "error"), ==,
			"port: value 70000 > max 65535");
	json_node_unref(runtime);
	sl_daemon_fixture_clear(&fx);
}

/* ---- fixed_rate ------------------------------------------------------------------------- */

/* at every trigger, how many of the project's instances had started and not finished */
static guint
max_live_at_trigger(GPtrArray *events)
{
	g_autoptr(GHashTable) live = g_hash_table_new(g_str_hash, g_str_equal);
	guint worst = 0;

	for (guint i = 0; i < events->len; i++) {
		const char *type = event_type(events, i);
		const char *id = stdiolink_json_object_get_string(event_data(events, i),
								  "instanceId");

		if (g_str_equal(type, "schedule.triggered"))
			worst = MAX(worst, g_hash_table_size(live));
		else if (g_str_equal(type, "instance.started"))
			g_hash_table_add(live, (gpointer)id);
		else if (g_str_equal(type, "instance.finished"))
			g_hash_table_remove(live, id);
	}
	return worst;
}

typedef struct {
	guint worst;
	guint finished;
} FullWatch;

/* polls the instance list while waiting: never more than one slow instance at a time */
static gboolean
slow_ran_three_times_cb(SlDaemonFixture *fx, gpointer data)
{
	FullWatch *watch = data;

	watch->worst = MAX(watch->worst, sl_daemon_fixture_count_instances(fx, "slow"));
	return count_events(fx, "slow", "instance.finished") >= 3;
}

/* the event log has caught up: every triggered run of the project has finished in it */
static gboolean
triggered_runs_logged_cb(SlDaemonFixture *fx, gpointer project_id)
{
	g_autoptr(GPtrArray) events = read_events(fx, project_id);

	return count_type(events, "instance.finished") >= count_type(events, "schedule.triggered");
}

static void
test_fixed_rate_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *fast = fixed_rate_schedule(100, 1);
	g_autofree char *slow = fixed_rate_schedule(100, 1);
	g_autoptr(GPtrArray) events = NULL;
	FullWatch watch = {0, 0};
	JsonNode *runtime;
	guint ticks;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "tick", "svc", fast, "{}");
	sl_daemon_fixture_add_project(&fx, "slow", "svc", slow, "{\"sleepMs\":450}");
	sl_daemon_fixture_start(&fx);

	/* a short run every interval */
	wait_events(&fx, "tick", "instance.finished", 3);
	runtime = get_runtime(&fx, "tick");
	g_assert_true(schedule_flag(runtime, "timerActive"));
	g_assert_false(schedule_flag(runtime, "autoRestarting"));
	json_node_unref(runtime);

	/* a long run: ticks while it is still there are skipped, without an event */
	g_assert_true(sl_daemon_fixture_wait(&fx, slow_ran_three_times_cb, &watch));
	g_assert_cmpuint(watch.worst, <=, 1);

	post_expect(&fx, "slow", "stop", 200);
	post_expect(&fx, "tick", "stop", 200);
	wait_instances(&fx, NULL, 0);

	/* the log is written after the fact: the last run's events may still be on their way */
	g_assert_true(sl_daemon_fixture_wait(&fx, triggered_runs_logged_cb, "slow"));
	events = read_events(&fx, "slow");
	g_assert_cmpuint(max_live_at_trigger(events), <=, 1);
	g_assert_cmpuint(count_type(events, "schedule.triggered"), ==,
			 count_type(events, "instance.started"));
	for (guint i = 0; i < events->len; i++) {
		if (g_str_equal(event_type(events, i), "schedule.triggered"))
			g_assert_cmpstr(stdiolink_json_object_get_string(event_data(events, i),
									 "scheduleType"), ==,
					"fixed_rate");
	}
	assert_instance_sequences(events);
	g_clear_pointer(&events, g_ptr_array_unref);

	/* stopped: the timer stays off, and a start by hand does not re-arm it */
	runtime = get_runtime(&fx, "tick");
	g_assert_false(schedule_flag(runtime, "timerActive"));
	g_assert_true(schedule_flag(runtime, "restartSuppressed"));
	json_node_unref(runtime);
	g_usleep(SETTLE_US);
	ticks = count_events(&fx, "tick", "schedule.triggered");
	post_expect(&fx, "tick", "start", 202);
	g_usleep(SETTLE_US);
	g_assert_cmpuint(count_events(&fx, "tick", "schedule.triggered"), ==, ticks);
	runtime = get_runtime(&fx, "tick");
	g_assert_false(schedule_flag(runtime, "timerActive"));
	g_assert_false(schedule_flag(runtime, "restartSuppressed"));
	json_node_unref(runtime);

	/* enabling re-arms it */
	json_node_unref(patch_enabled(&fx, "tick", "{\"enabled\":true}", 200));
	runtime = get_runtime(&fx, "tick");
	g_assert_true(schedule_flag(runtime, "timerActive"));
	json_node_unref(runtime);
	wait_events(&fx, "tick", "schedule.triggered", ticks + 2);
	sl_daemon_fixture_clear(&fx);
}

/* ---- daemon ----------------------------------------------------------------------------- */

static void
assert_suppressed_event(GPtrArray *events, guint nth, gint64 failures)
{
	guint seen = 0;

	for (guint i = 0; i < events->len; i++) {
		JsonObject *data = event_data(events, i);

		if (!g_str_equal(event_type(events, i), "schedule.suppressed") || seen++ != nth)
			continue;
		g_assert_cmpstr(stdiolink_json_object_get_string(data, "reason"), ==,
				"crash_loop");
		g_assert_cmpint(json_object_get_int_member(data, "consecutiveFailures"), ==,
				failures);

		/* handled before the run's own instance.finished goes out */
		g_assert_cmpuint(i + 1, <, events->len);
		g_assert_cmpstr(event_type(events, i + 1), ==, "instance.finished");
		return;
	}
	g_assert_not_reached();
}

/*
 * A daemon that fails is restarted after restartDelayMs until maxConsecutiveFailures
 * runs in a row failed: then it is suppressed, started exactly that many times. A start
 * by hand lifts the suppression and resets the counter.
 */
static void
test_daemon_crash_loop_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *schedule = daemon_schedule(100, 3);
	g_autoptr(GPtrArray) events = NULL;
	JsonNode *runtime;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "crashy", "svc", schedule,
				      "{\"sleepMs\":50,\"exitCode\":3}");
	sl_daemon_fixture_start(&fx);

	wait_events(&fx, "crashy", "schedule.suppressed", 1);
	wait_events(&fx, "crashy", "instance.finished", 3);
	g_usleep(SETTLE_US);
	events = read_events(&fx, "crashy");
	g_assert_cmpuint(count_type(events, "schedule.triggered"), ==, 3);
	g_assert_cmpuint(count_type(events, "instance.started"), ==, 3);
	g_assert_cmpuint(count_type(events, "instance.finished"), ==, 3);
	g_assert_cmpuint(count_type(events, "schedule.suppressed"), ==, 1);
	assert_suppressed_event(events, 0, 3);
	assert_instance_sequences(events);
	g_assert_cmpstr(event_type(events, 0), ==, "schedule.triggered");
	g_assert_cmpstr(stdiolink_json_object_get_string(event_data(events, 0), "scheduleType"),
			==, "daemon");
	g_assert_cmpstr(event_type(events, 1), ==, "instance.started");
	g_clear_pointer(&events, g_ptr_array_unref);

	runtime = get_runtime(&fx, "crashy");
	g_assert_true(schedule_flag(runtime, "restartSuppressed"));
	g_assert_false(schedule_flag(runtime, "autoRestarting"));
	g_assert_cmpint(schedule_failures(runtime), ==, 3);
	g_assert_cmpint(json_object_get_int_member(object_of(runtime), "runningInstances"), ==,
			0);
	json_node_unref(runtime);

	/* by hand: resumed, so its failures count from zero and it is restarted again */
	post_expect(&fx, "crashy", "start", 202);
	runtime = get_runtime(&fx, "crashy");
	g_assert_false(schedule_flag(runtime, "restartSuppressed"));
	g_assert_true(schedule_flag(runtime, "autoRestarting"));
	json_node_unref(runtime);

	wait_events(&fx, "crashy", "schedule.suppressed", 2);
	wait_events(&fx, "crashy", "instance.finished", 6);
	g_usleep(SETTLE_US);
	events = read_events(&fx, "crashy");
	g_assert_cmpuint(count_type(events, "instance.started"), ==, 6);
	g_assert_cmpuint(count_type(events, "schedule.triggered"), ==, 5);
	assert_suppressed_event(events, 1, 3);
	assert_instance_sequences(events);
	sl_daemon_fixture_clear(&fx);
}

/* a daemon that exits with code 0 stays down and its counter is clear */
static void
test_daemon_clean_exit_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *schedule = daemon_schedule(50, 3);
	g_autoptr(GPtrArray) events = NULL;
	JsonNode *runtime;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "oneshot", "svc", schedule, "{\"sleepMs\":50}");
	sl_daemon_fixture_start(&fx);

	wait_events(&fx, "oneshot", "instance.finished", 1);
	g_usleep(SETTLE_US);
	events = read_events(&fx, "oneshot");
	g_assert_cmpuint(count_type(events, "schedule.triggered"), ==, 1);
	g_assert_cmpuint(count_type(events, "instance.started"), ==, 1);
	g_assert_cmpuint(count_type(events, "instance.finished"), ==, 1);
	assert_instance_sequences(events);

	runtime = get_runtime(&fx, "oneshot");
	g_assert_cmpint(schedule_failures(runtime), ==, 0);
	g_assert_false(schedule_flag(runtime, "restartSuppressed"));
	g_assert_true(schedule_flag(runtime, "autoRestarting"));
	g_assert_cmpstr(json_object_get_string_member(object_of(runtime), "status"), ==,
			"stopped");
	json_node_unref(runtime);
	sl_daemon_fixture_clear(&fx);
}

/* a daemon whose program cannot run fails each start once and is suppressed in the end */
static void
test_daemon_exec_failure_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *schedule = daemon_schedule(50, 2);
	g_autofree char *body = NULL;
	g_autofree char *entry = NULL;
	g_autoptr(GPtrArray) events = NULL;

	setup(&fx);
	sl_daemon_fixture_start(&fx);
	entry = sl_daemon_fixture_path(&fx, "services/svc/run");
	g_assert_cmpint(g_unlink(entry), ==, 0);

	body = g_strdup_printf("{\"id\":\"gone\",\"name\":\"Gone\",\"serviceId\":\"svc\","
			       "\"schedule\":%s}",
			       schedule);
	json_node_unref(request(&fx, "POST", "/api/projects", body, 201));
	wait_events(&fx, "gone", "schedule.suppressed", 1);
	wait_events(&fx, "gone", "instance.finished", 2);
	g_usleep(SETTLE_US);

	events = read_events(&fx, "gone");
	g_assert_cmpuint(count_type(events, "schedule.triggered"), ==, 2);
	g_assert_cmpuint(count_type(events, "instance.started"), ==, 0);
	g_assert_cmpuint(count_type(events, "instance.startFailed"), ==, 2);
	g_assert_cmpuint(count_type(events, "instance.finished"), ==, 2);
	assert_suppressed_event(events, 0, 2);
	assert_instance_sequences(events);
	for (guint i = 0; i < events->len; i++) {
		JsonObject *data = event_data(events, i);

		if (!g_str_equal(event_type(events, i), "instance.finished"))
			continue;
		g_assert_cmpint(json_object_get_int_member(data, "exitCode"), ==, -1);
		g_assert_cmpstr(json_object_get_string_member(data, "status"), ==, "crashed");
	}
	sl_daemon_fixture_clear(&fx);
}

/*
 * The run-timeout watchdog kills a run that takes too long and says why in the project
 * log; for a daemon that is a failure like any other.
 */
static void
test_run_timeout_func(void)
{
	SlDaemonFixture fx;
	const char *schedule = "{\"type\":\"daemon\",\"runTimeoutMs\":150,\"restartDelayMs\":0,"
			       "\"maxConsecutiveFailures\":2}";
	g_autoptr(GPtrArray) events = NULL;
	g_autofree char *log_path = NULL;
	g_autofree char *log = NULL;
	guint kills = 0;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "slowpoke", "svc", schedule, SLEEPER);
	sl_daemon_fixture_start(&fx);

	wait_events(&fx, "slowpoke", "schedule.suppressed", 1);
	wait_events(&fx, "slowpoke", "instance.finished", 2);
	g_usleep(SETTLE_US);
	events = read_events(&fx, "slowpoke");
	g_assert_cmpuint(count_type(events, "instance.started"), ==, 2);
	for (guint i = 0; i < events->len; i++) {
		JsonObject *data = event_data(events, i);

		if (!g_str_equal(event_type(events, i), "instance.finished"))
			continue;
		g_assert_cmpint(json_object_get_int_member(data, "exitCode"), ==, SIGKILL);
		g_assert_cmpstr(json_object_get_string_member(data, "status"), ==, "crashed");
	}
	assert_instance_sequences(events);

	log_path = sl_daemon_fixture_path(&fx, "logs/slowpoke.log");
	log = sl_test_read_file(log_path);
	for (const char *p = log; (p = strstr(p, "service run timeout (150 ms)")) != NULL; p++)
		kills++;
	g_assert_cmpuint(kills, ==, 2);
	sl_daemon_fixture_clear(&fx);
}

/* ---- runtime routes --------------------------------------------------------------------- */

static void
assert_runtime_ids(JsonNode *node, const char *const *ids)
{
	JsonArray *list = json_object_get_array_member(object_of(node), "runtimes");

	g_assert_cmpuint(json_array_get_length(list), ==, g_strv_length((GStrv)ids));
	for (guint i = 0; ids[i] != NULL; i++)
		g_assert_cmpstr(json_object_get_string_member(
				    json_array_get_object_element(list, i), "id"), ==, ids[i]);
}

static void
test_runtime_routes_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *daemon = daemon_schedule(100, 5);
	g_autofree char *fixed = fixed_rate_schedule(200, 2);
	const char *all[] = {"a", "b", "c", "d", NULL};
	const char *picked[] = {"a", "c", NULL};
	JsonNode *node;
	JsonObject *runtime;
	JsonObject *schedule;
	JsonArray *instances;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "c", "svc", fixed, SLEEPER);
	sl_daemon_fixture_add_project(&fx, "a", "svc", NULL, SLEEPER);
	sl_daemon_fixture_add_project(&fx, "b", "svc", daemon, SLEEPER);
	sl_daemon_fixture_add_project(&fx, "d", "svc", NULL, "{\"port\":0}");
	sl_daemon_fixture_start(&fx);
	wait_instances(&fx, "b", 1);

	/* registered before /api/projects/{id}: "runtime" is not a project id */
	node = request(&fx, "GET", "/api/projects/runtime", NULL, 200);
	assert_runtime_ids(node, all);
	json_node_unref(node);
	node = request(&fx, "GET", "/api/projects/runtime?ids=", NULL, 200);
	assert_runtime_ids(node, all);
	json_node_unref(node);
	node = request(&fx, "GET", "/api/projects/runtime?ids=c,,a,ghost", NULL, 200);
	assert_runtime_ids(node, picked);
	json_node_unref(node);

	node = request(&fx, "GET", "/api/projects/runtime?ids=b", NULL, 200);
	runtime = json_array_get_object_element(
	    json_object_get_array_member(object_of(node), "runtimes"), 0);
	g_assert_cmpstr(json_object_get_string_member(runtime, "status"), ==, "running");
	g_assert_true(json_object_get_boolean_member(runtime, "enabled"));
	g_assert_true(json_object_get_boolean_member(runtime, "valid"));
	g_assert_false(json_object_has_member(runtime, "error"));
	g_assert_cmpint(json_object_get_int_member(runtime, "runningInstances"), ==, 1);
	instances = json_object_get_array_member(runtime, "instances");
	g_assert_cmpuint(json_array_get_length(instances), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(instances, 0),
						      "projectId"), ==, "b");
	schedule = json_object_get_object_member(runtime, "schedule");
	g_assert_cmpuint(json_object_get_size(schedule), ==, 6);
	g_assert_cmpstr(json_object_get_string_member(schedule, "type"), ==, "daemon");
	g_assert_true(json_object_get_boolean_member(schedule, "autoRestarting"));
	g_assert_false(json_object_get_boolean_member(schedule, "timerActive"));
	g_assert_false(json_object_get_boolean_member(schedule, "restartSuppressed"));
	g_assert_false(json_object_get_boolean_member(schedule, "shuttingDown"));
	g_assert_cmpint(json_object_get_int_member(schedule, "consecutiveFailures"), ==, 0);
	json_node_unref(node);

	node = get_runtime(&fx, "c");
	g_assert_true(schedule_flag(node, "timerActive"));
	json_node_unref(node);
	node = get_runtime(&fx, "d");
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "status"), ==, "invalid");
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "error"), ==,
			"port: value 0 < min 1");
	json_node_unref(node);

	node = request(&fx, "GET", "/api/projects/ghost/runtime", NULL, 404);
	sl_daemon_fixture_assert_error(node, "not_found", "project not found");
	json_node_unref(node);
	sl_daemon_fixture_clear(&fx);
}

/* ---- enable, reload, update, delete ----------------------------------------------------- */

static void
test_enabled_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *schedule = daemon_schedule(50, 5);
	g_autofree char *instance_id = NULL;
	g_autofree char *terminate = NULL;
	JsonNode *node;
	JsonObject *config;
	guint triggers;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "d", "svc", schedule, SLEEPER);
	sl_daemon_fixture_start(&fx);
	wait_instances(&fx, "d", 1);

	node = patch_enabled(&fx, "d", "{\"enabled\":false}", 200);
	g_assert_false(json_object_get_boolean_member(object_of(node), "enabled"));
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "status"), ==, "disabled");
	g_assert_cmpint(json_object_get_int_member(object_of(node), "instanceCount"), ==, 0);
	json_node_unref(node);
	config = read_json_file(&fx, "projects/d/config.json");
	g_assert_false(json_object_get_boolean_member(config, "enabled"));
	json_object_unref(config);

	node = get_runtime(&fx, "d");
	g_assert_true(schedule_flag(node, "restartSuppressed"));
	g_assert_false(schedule_flag(node, "autoRestarting"));
	json_node_unref(node);
	g_usleep(SETTLE_US);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, "d"), ==, 0);

	/* disabled and started by hand: a crash is not followed by a restart */
	triggers = count_events(&fx, "d", "schedule.triggered");
	post_expect(&fx, "d", "start", 202);
	instance_id = only_instance(&fx, "d");
	terminate = g_strdup_printf("/api/instances/%s/terminate", instance_id);
	json_node_unref(request(&fx, "POST", terminate, NULL, 200));
	wait_instances(&fx, "d", 0);
	g_usleep(SETTLE_US);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, "d"), ==, 0);
	g_assert_cmpuint(count_events(&fx, "d", "schedule.triggered"), ==, triggers);

	/* body errors */
	node = patch_enabled(&fx, "d", "{}", 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "field 'enabled' is required and must be a bool");
	json_node_unref(node);
	node = patch_enabled(&fx, "d", "{\"enabled\":\"true\"}", 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "field 'enabled' is required and must be a bool");
	json_node_unref(node);
	node = patch_enabled(&fx, "ghost", "{\"enabled\":true}", 404);
	sl_daemon_fixture_assert_error(node, "not_found", "project not found");
	json_node_unref(node);

	/* enabled again: armed at once, so the daemon is already starting in the answer */
	node = patch_enabled(&fx, "d", "{\"enabled\":true}", 200);
	g_assert_true(json_object_get_boolean_member(object_of(node), "enabled"));
	g_assert_cmpint(json_object_get_int_member(object_of(node), "instanceCount"), ==, 1);
	json_node_unref(node);
	node = get_runtime(&fx, "d");
	g_assert_false(schedule_flag(node, "restartSuppressed"));
	g_assert_true(schedule_flag(node, "autoRestarting"));
	json_node_unref(node);
	wait_events(&fx, "d", "schedule.triggered", triggers + 1);
	g_usleep(SETTLE_US);
	g_assert_cmpuint(count_events(&fx, "d", "schedule.triggered"), ==, triggers + 1);
	sl_daemon_fixture_clear(&fx);
}

static void
test_reload_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *schedule = daemon_schedule(50, 5);
	g_autofree char *config = NULL;
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	g_autoptr(GPtrArray) events = NULL;
	JsonNode *node;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "r", "svc", schedule,
				      "{\"sleepMs\":60000,\"stdout\":[\"v1\"]}");
	sl_daemon_fixture_start(&fx);
	wait_file_contains(&fx, "logs/r.log", "| v1");
	first = only_instance(&fx, "r");

	/* edited on disk: reloaded, the old run stopped and the new one started */
	config = g_strdup_printf("{\"name\":\"Renamed\",\"serviceId\":\"svc\",\"schedule\":%s}",
				 schedule);
	sl_daemon_fixture_write(&fx, "projects/r/config.json", config);
	sl_daemon_fixture_write(&fx, "projects/r/param.json",
				"{\"sleepMs\":60000,\"stdout\":[\"v2\"]}");
	node = request(&fx, "POST", "/api/projects/r/reload", NULL, 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "name"), ==, "Renamed");
	json_node_unref(node);
	wait_file_contains(&fx, "logs/r.log", "| v2");
	second = only_instance(&fx, "r");
	g_assert_cmpstr(first, !=, second);
	wait_events(&fx, "r", "instance.finished", 1);
	events = sl_daemon_fixture_read_events(&fx, first);
	g_assert_cmpuint(events->len, ==, 2);
	g_assert_cmpstr(events->pdata[0], ==, "instance.started");
	g_assert_cmpstr(events->pdata[1], ==, "instance.finished");

	/* a broken file is refused and the loaded version stays */
	sl_daemon_fixture_write(&fx, "projects/r/config.json", "{not json");
	node = request(&fx, "POST", "/api/projects/r/reload", NULL, 400);
	sl_daemon_fixture_assert_error(node, "bad_request", NULL);
	g_assert_true(g_str_has_prefix(json_object_get_string_member(object_of(node), "error"),
				       "project config file parse error: "));
	json_node_unref(node);
	sl_daemon_fixture_write(&fx, "projects/r/config.json", config);
	sl_daemon_fixture_write(&fx, "projects/r/param.json", "{\"port\":70000}");
	node = request(&fx, "POST", "/api/projects/r/reload", NULL, 400);
	sl_daemon_fixture_assert_error(node, "bad_request",
				       "project invalid: port: value 70000 > max 65535");
	json_node_unref(node);
	node = request(&fx, "GET", "/api/projects/r", NULL, 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "status"), ==, "running");
	json_node_unref(node);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, "r"), ==, 1);

	/* a folder made by hand is imported */
	sl_daemon_fixture_add_project(&fx, "fresh", "svc", NULL, "{}");
	node = request(&fx, "POST", "/api/projects/fresh/reload", NULL, 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "id"), ==, "fresh");
	json_node_unref(node);
	json_node_unref(request(&fx, "GET", "/api/projects/fresh", NULL, 200));

	node = request(&fx, "POST", "/api/projects/ghost/reload", NULL, 404);
	sl_daemon_fixture_assert_error(node, "not_found", "project not found");
	json_node_unref(node);
	node = request(&fx, "POST", "/api/projects/bad%20id/reload", NULL, 400);
	sl_daemon_fixture_assert_error(node, "bad_request", "invalid project id: bad id");
	json_node_unref(node);
	sl_daemon_fixture_clear(&fx);
}

/*
 * create arms the new project; update restarts a running daemon with the new settings;
 * stop suppresses it; delete stops it for good.
 */
static void
test_update_daemon_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *schedule = daemon_schedule(50, 5);
	g_autofree char *body = NULL;
	g_autofree char *first = NULL;
	g_autofree char *second = NULL;
	JsonNode *node;
	guint triggers;

	setup(&fx);
	sl_daemon_fixture_start(&fx);

	body = g_strdup_printf("{\"id\":\"d\",\"name\":\"D\",\"serviceId\":\"svc\",\"schedule\":%s,"
			       "\"config\":{\"sleepMs\":60000,\"stdout\":[\"v1\"]}}",
			       schedule);
	node = request(&fx, "POST", "/api/projects", body, 201);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "status"), ==, "running");
	json_node_unref(node);
	wait_file_contains(&fx, "logs/d.log", "| v1");
	first = only_instance(&fx, "d");

	g_free(body);
	body = g_strdup_printf("{\"name\":\"D\",\"serviceId\":\"svc\",\"schedule\":%s,"
			       "\"config\":{\"sleepMs\":60000,\"stdout\":[\"v2\"]}}",
			       schedule);
	node = request(&fx, "PUT", "/api/projects/d", body, 200);
	json_node_unref(node);
	wait_file_contains(&fx, "logs/d.log", "| v2");
	second = only_instance(&fx, "d");
	g_assert_cmpstr(first, !=, second);
	node = get_runtime(&fx, "d");
	g_assert_false(schedule_flag(node, "restartSuppressed"));
	g_assert_cmpint(schedule_failures(node), ==, 0);
	json_node_unref(node);

	/* stop: suppressed, so the killed run is not restarted */
	post_expect(&fx, "d", "stop", 200);
	wait_instances(&fx, "d", 0);
	g_usleep(SETTLE_US);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, "d"), ==, 0);
	node = get_runtime(&fx, "d");
	g_assert_true(schedule_flag(node, "restartSuppressed"));
	g_assert_false(schedule_flag(node, "autoRestarting"));
	json_node_unref(node);

	/* start by hand, then delete: nothing comes back */
	post_expect(&fx, "d", "start", 202);
	wait_instances(&fx, "d", 1);
	triggers = count_events(&fx, "d", "schedule.triggered");
	node = request(&fx, "DELETE", "/api/projects/d", NULL, 204);
	g_assert_null(node);
	g_usleep(SETTLE_US);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, "d"), ==, 0);
	g_assert_cmpuint(count_events(&fx, "d", "schedule.triggered"), ==, triggers);
	sl_daemon_fixture_clear(&fx);
}

/* ---- busy, rollback, shutdown ----------------------------------------------------------- */

typedef struct {
	SlDaemonFixture *fx;
	guint status;
} SlowRequest;

static gpointer
slow_disable_thread(gpointer data)
{
	SlowRequest *req = data;
	g_autoptr(SoupSession) session = sl_daemon_fixture_new_session();
	g_autofree char *url = g_strconcat(req->fx->base_url, "/api/projects/stubborn/enabled",
					   NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("PATCH", url);
	const char *body = "{\"enabled\":false}";
	g_autoptr(GBytes) bytes = g_bytes_new_static(body, strlen(body));
	g_autoptr(GBytes) reply = NULL;

	soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
	reply = soup_session_send_and_read(session, msg, NULL, NULL);
	req->status = soup_message_get_status(msg);
	return NULL;
}

/* a start of the running manual project changes nothing: "already running" or busy */
static gboolean
start_refused_busy_cb(SlDaemonFixture *fx, gpointer data)
{
	guint status = 0;
	g_autoptr(JsonNode) node = NULL;

	node = sl_daemon_fixture_request(fx, "POST", "/api/projects/stubborn/start", NULL,
					 &status);
	g_assert_cmpuint(status, ==, 409);
	return g_strcmp0(stdiolink_json_object_get_string(object_of(node), "code"),
			 "project_busy") == 0;
}

static void
assert_busy(SlDaemonFixture *fx, const char *method, const char *path, const char *body)
{
	g_autoptr(JsonNode) node = request(fx, method, path, body, 409);

	sl_daemon_fixture_assert_error(node, "project_busy",
				       "project operation already in progress: stubborn");
}

/* while one mutation waits for a stubborn instance, every other mutation is refused */
static void
test_busy_func(void)
{
	SlDaemonFixture fx;
	SlowRequest slow = {&fx, 0};
	GThread *thread;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "stubborn", "svc", NULL,
				      "{\"sleepMs\":60000,\"ignoreTerm\":true,"
				      "\"stdout\":[\"ready\"]}");
	sl_daemon_fixture_write(&fx, "config.json", "{\"stopGraceMs\":2000}");
	sl_daemon_fixture_start(&fx);
	post_expect(&fx, "stubborn", "start", 202);
	wait_file_contains(&fx, "logs/stubborn.log", "| ready");

	thread = g_thread_new("slow-disable", slow_disable_thread, &slow);
	g_assert_true(sl_daemon_fixture_wait(&fx, start_refused_busy_cb, NULL));
	assert_busy(&fx, "POST", "/api/projects/stubborn/reload", NULL);
	assert_busy(&fx, "PATCH", "/api/projects/stubborn/enabled", "{\"enabled\":true}");
	assert_busy(&fx, "PUT", "/api/projects/stubborn", "{\"name\":\"x\",\"serviceId\":\"svc\"}");
	assert_busy(&fx, "POST", "/api/projects/stubborn/stop", NULL);
	assert_busy(&fx, "DELETE", "/api/projects/stubborn", NULL);

	/* reads are not guarded */
	json_node_unref(get_runtime(&fx, "stubborn"));
	g_assert_cmpuint(slow.status, ==, 0);

	g_thread_join(thread);
	g_assert_cmpuint(slow.status, ==, 200);
	g_assert_cmpuint(sl_daemon_fixture_count_instances(&fx, "stubborn"), ==, 0);
	sl_daemon_fixture_clear(&fx);
}

static GPid
instance_pid(SlDaemonFixture *fx, const char *instance_id)
{
	g_autofree char *path = g_strdup_printf("/api/instances/%s", instance_id);
	g_autoptr(JsonNode) node = request(fx, "GET", path, NULL, 200);

	return (GPid)json_object_get_int_member(object_of(node), "pid");
}

static gboolean
instance_running_cb(SlDaemonFixture *fx, gpointer data)
{
	return instance_pid(fx, data) > 0;
}

/*
 * When the instances outlive the stop timeout (stopTimeoutMs shorter than the grace
 * period), update and disable write the previous files back and answer 409
 * terminate_timeout; reload and delete leave everything as it was.
 */
static void
test_rollback_func(void)
{
	SlDaemonFixture fx;
	const char *message = "project instances still running after stop timeout: stubborn";
	g_autofree char *instance_id = NULL;
	g_autofree char *dir = NULL;
	JsonNode *node;
	JsonObject *config;
	JsonObject *params;
	GPid pid;

	setup(&fx);
	sl_daemon_fixture_add_project(&fx, "stubborn", "svc", NULL,
				      "{\"sleepMs\":60000,\"ignoreTerm\":true,"
				      "\"stdout\":[\"ready\"]}");
	sl_daemon_fixture_write(&fx, "config.json",
				"{\"stopGraceMs\":60000,\"stopTimeoutMs\":200}");
	sl_daemon_fixture_start(&fx);
	post_expect(&fx, "stubborn", "start", 202);
	wait_file_contains(&fx, "logs/stubborn.log", "| ready");
	instance_id = only_instance(&fx, "stubborn");
	g_assert_true(sl_daemon_fixture_wait(&fx, instance_running_cb, instance_id));
	pid = instance_pid(&fx, instance_id);

	node = request(&fx, "PUT", "/api/projects/stubborn",
		       "{\"name\":\"Changed\",\"serviceId\":\"svc\",\"config\":{\"sleepMs\":1}}",
		       409);
	sl_daemon_fixture_assert_error(node, "terminate_timeout", message);
	json_node_unref(node);
	config = read_json_file(&fx, "projects/stubborn/config.json");
	g_assert_cmpstr(json_object_get_string_member(config, "name"), ==, "Project stubborn");
	json_object_unref(config);
	params = read_json_file(&fx, "projects/stubborn/param.json");
	g_assert_cmpint(json_object_get_int_member(params, "sleepMs"), ==, 60000);
	json_object_unref(params);
	node = request(&fx, "GET", "/api/projects/stubborn", NULL, 200);
	g_assert_cmpstr(json_object_get_string_member(object_of(node), "name"), ==,
			"Project stubborn");
	json_node_unref(node);

	node = patch_enabled(&fx, "stubborn", "{\"enabled\":false}", 409);
	sl_daemon_fixture_assert_error(node, "terminate_timeout", message);
	json_node_unref(node);
	config = read_json_file(&fx, "projects/stubborn/config.json");
	g_assert_true(json_object_get_boolean_member(config, "enabled"));
	json_object_unref(config);

	node = request(&fx, "POST", "/api/projects/stubborn/reload", NULL, 409);
	sl_daemon_fixture_assert_error(node, "terminate_timeout", message);
	json_node_unref(node);
	node = request(&fx, "DELETE", "/api/projects/stubborn", NULL, 409);
	sl_daemon_fixture_assert_error(node, "terminate_timeout", message);
	json_node_unref(node);
	dir = sl_daemon_fixture_path(&fx, "projects/stubborn/config.json");
	g_assert_true(g_file_test(dir, G_FILE_TEST_EXISTS));

	/* after every failure the project is scheduled as before */
	node = get_runtime(&fx, "stubborn");
	g_assert_false(schedule_flag(node, "restartSuppressed"));
	g_assert_true(json_object_get_boolean_member(object_of(node), "enabled"));
	json_node_unref(node);

	/* the grace period is a minute: end the test's own stubborn process now */
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	wait_instances(&fx, "stubborn", 0);
	sl_daemon_fixture_clear(&fx);
}

static GPid
read_pid_file(SlDaemonFixture *fx, const char *relative)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, relative);
	g_autofree char *text = sl_test_read_file(path);

	return (GPid)g_ascii_strtoll(text, NULL, 10);
}

static gboolean
pid_file_written_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, data);

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

/*
 * SIGTERM to the daemon: scheduling stops first (the killed daemon instance is not
 * restarted, no tick starts anything), then every instance and its children go.
 */
static void
test_shutdown_func(void)
{
	SlDaemonFixture fx;
	g_autofree char *daemon = daemon_schedule(0, 5);
	g_autofree char *fixed = fixed_rate_schedule(100, 2);
	g_autofree char *params = NULL;
	g_autofree char *child_pid_file = NULL;
	g_autoptr(GArray) pids = g_array_new(FALSE, FALSE, sizeof(GPid));
	g_autoptr(GPtrArray) events = NULL;
	g_autoptr(JsonNode) list = NULL;
	JsonArray *instances;
	GPid child;

	setup(&fx);
	child_pid_file = sl_daemon_fixture_path(&fx, "child.pid");
	params = g_strdup_printf("{\"sleepMs\":60000,\"spawnChild\":\"%s\"}", child_pid_file);
	sl_daemon_fixture_add_project(&fx, "d", "svc", daemon, params);
	sl_daemon_fixture_add_project(&fx, "f", "svc", fixed, SLEEPER);
	sl_daemon_fixture_start(&fx);

	g_assert_true(sl_daemon_fixture_wait(&fx, pid_file_written_cb, "child.pid"));
	child = read_pid_file(&fx, "child.pid");
	wait_events(&fx, "f", "instance.started", 2);
	wait_events(&fx, "d", "instance.started", 1);
	list = request(&fx, "GET", "/api/instances", NULL, 200);
	instances = json_object_get_array_member(object_of(list), "instances");
	g_assert_cmpuint(json_array_get_length(instances), ==, 3);
	for (guint i = 0; i < json_array_get_length(instances); i++) {
		GPid pid = (GPid)json_object_get_int_member(
		    json_array_get_object_element(instances, i), "pid");

		g_assert_cmpint(pid, >, 0);
		g_array_append_val(pids, pid);
	}
	g_assert_true(sl_daemon_fixture_pid_alive(child));

	sl_daemon_fixture_stop(&fx);
	for (guint i = 0; i < pids->len; i++)
		g_assert_false(sl_daemon_fixture_pid_alive(g_array_index(pids, GPid, i)));
	g_assert_false(sl_daemon_fixture_pid_alive(child));

	events = read_events(&fx, "d");
	g_assert_cmpuint(count_type(events, "schedule.triggered"), ==, 1);
	g_assert_cmpuint(count_type(events, "instance.started"), ==, 1);
	g_assert_cmpuint(count_type(events, "instance.finished"), ==, 1);
	assert_instance_sequences(events);
	g_clear_pointer(&events, g_ptr_array_unref);
	events = read_events(&fx, "f");
	g_assert_cmpuint(count_type(events, "schedule.triggered"), ==, 2);
	g_assert_cmpuint(count_type(events, "instance.finished"), ==, 2);
	assert_instance_sequences(events);
	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/scheduler/never-started", test_never_started_func);
	g_test_add_func("/scheduler/fixed-rate", test_fixed_rate_func);
	g_test_add_func("/scheduler/daemon/crash-loop", test_daemon_crash_loop_func);
	g_test_add_func("/scheduler/daemon/clean-exit", test_daemon_clean_exit_func);
	g_test_add_func("/scheduler/daemon/exec-failure", test_daemon_exec_failure_func);
	g_test_add_func("/scheduler/daemon/run-timeout", test_run_timeout_func);
	g_test_add_func("/scheduler/runtime-routes", test_runtime_routes_func);
	g_test_add_func("/scheduler/enabled", test_enabled_func);
	g_test_add_func("/scheduler/reload", test_reload_func);
	g_test_add_func("/scheduler/update-daemon", test_update_daemon_func);
	g_test_add_func("/scheduler/busy", test_busy_func);
	g_test_add_func("/scheduler/rollback", test_rollback_func);
	g_test_add_func("/scheduler/shutdown", test_shutdown_func);
	return g_test_run();
}

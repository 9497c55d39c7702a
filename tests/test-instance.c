#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sl-test-utils.h"
#include "stdiolink-instance-private.h"
#include "stdiolink-process-guard-private.h"
#include "stdiolink.h"

/*
 * Real processes (tests/sl-test-service) under a real main loop. Every test gets its own
 * data root; the whole binary runs with TMPDIR pointing at a private folder, so that temp
 * config files and guard sockets can be counted. Assertions are about the order of
 * events, never about how long something took.
 */

#define WAIT_LIMIT_US (30 * G_USEC_PER_SEC)

static char *private_tmp;
static char *service_program;

static gboolean
tick_cb(gpointer user_data)
{
	return G_SOURCE_CONTINUE;
}

/* iterates the main loop until COND holds; fails after 30 s */
#define WAIT_UNTIL(cond)                                                                  \
	G_STMT_START                                                                      \
	{                                                                                 \
		gint64 deadline_ = g_get_monotonic_time() + WAIT_LIMIT_US;                \
		guint tick_ = g_timeout_add(20, tick_cb, NULL);                           \
		while (!(cond)) {                                                         \
			g_assert_cmpint(g_get_monotonic_time(), <, deadline_);            \
			g_main_context_iteration(NULL, TRUE);                             \
		}                                                                         \
		g_source_remove(tick_);                                                   \
	}                                                                                 \
	G_STMT_END

typedef struct {
	char *type;
	JsonObject *data;
} Event;

typedef struct {
	char *id;
	gint code;
	char *status;
	StdiolinkInstanceState state;
	gboolean finished_already_published;
	guint live_then;
} Finished;

typedef struct {
	char *root;
	StdiolinkEventBus *bus;
	StdiolinkInstanceManager *m;
	GPtrArray *events;   /* Event */
	GPtrArray *finished; /* Finished: "instance-finished" emissions */
} Fixture;

static void
event_free(Event *ev)
{
	g_free(ev->type);
	json_object_unref(ev->data);
	g_free(ev);
}

static void
finished_free(Finished *f)
{
	g_free(f->id);
	g_free(f->status);
	g_free(f);
}

static guint
count_events(Fixture *fx, const char *type, const char *id)
{
	guint n = 0;

	for (guint i = 0; i < fx->events->len; i++) {
		Event *ev = g_ptr_array_index(fx->events, i);

		if (type != NULL && g_strcmp0(ev->type, type) != 0)
			continue;
		if (id != NULL &&
		    g_strcmp0(stdiolink_json_object_get_string(ev->data, "instanceId"), id) != 0)
			continue;
		n++;
	}
	return n;
}

static JsonObject *
find_event(Fixture *fx, const char *type, const char *id)
{
	for (guint i = 0; i < fx->events->len; i++) {
		Event *ev = g_ptr_array_index(fx->events, i);

		if (g_strcmp0(ev->type, type) == 0 &&
		    g_strcmp0(stdiolink_json_object_get_string(ev->data, "instanceId"), id) == 0)
			return ev->data;
	}
	return NULL;
}

/* the instance's events as "started finished:0:normal" */
static char *
event_summary(Fixture *fx, const char *id)
{
	GString *out = g_string_new(NULL);

	for (guint i = 0; i < fx->events->len; i++) {
		Event *ev = g_ptr_array_index(fx->events, i);

		if (g_strcmp0(stdiolink_json_object_get_string(ev->data, "instanceId"), id) != 0)
			continue;
		if (out->len > 0)
			g_string_append_c(out, ' ');
		g_string_append(out, ev->type + strlen("instance."));
		if (g_str_equal(ev->type, "instance.finished"))
			g_string_append_printf(out, ":%" G_GINT64_FORMAT ":%s",
					       json_object_get_int_member(ev->data, "exitCode"),
					       json_object_get_string_member(ev->data, "status"));
		if (g_str_equal(ev->type, "instance.startFailed"))
			g_string_append_printf(out, ":%s",
					       json_object_get_string_member(ev->data, "error"));
	}
	return g_string_free(out, FALSE);
}

static void
event_cb(StdiolinkEventBus *bus, const char *type, JsonObject *data, const char *ts, Fixture *fx)
{
	Event *ev = g_new0(Event, 1);

	ev->type = g_strdup(type);
	ev->data = json_object_ref(data);
	g_ptr_array_add(fx->events, ev);
}

static void
instance_finished_cb(StdiolinkInstanceManager *m,
		     StdiolinkInstance *inst,
		     gint code,
		     const char *status,
		     Fixture *fx)
{
	Finished *f = g_new0(Finished, 1);
	const char *id = stdiolink_instance_get_id(inst);

	f->id = g_strdup(id);
	f->code = code;
	f->status = g_strdup(status);
	f->state = stdiolink_instance_get_state(inst);
	f->finished_already_published = count_events(fx, "instance.finished", id) > 0;
	f->live_then = stdiolink_instance_manager_count_live(m, NULL);
	g_ptr_array_add(fx->finished, f);
}

static void
fixture_use_manager(Fixture *fx, guint grace_ms)
{
	if (fx->m != NULL) {
		g_signal_handlers_disconnect_by_data(fx->m, fx);
		g_clear_object(&fx->m);
	}
	fx->m = stdiolink_instance_manager_new(fx->bus, fx->root, grace_ms, 16 << 20, 2);
	g_signal_connect(fx->m, "instance-finished", G_CALLBACK(instance_finished_cb), fx);
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	g_autofree char *events_log = NULL;
	g_autofree char *service_dir = NULL;

	fx->root = sl_test_make_tmp_dir("sl-inst-root-XXXXXX");
	service_dir = sl_test_make_dir(fx->root, "services/svc");

	events_log = g_build_filename(fx->root, "logs", "events.jsonl", NULL);
	fx->bus = stdiolink_event_bus_new(events_log);
	WAIT_UNTIL(stdiolink_event_bus_is_history_loaded(fx->bus));
	fx->events = g_ptr_array_new_with_free_func((GDestroyNotify)event_free);
	fx->finished = g_ptr_array_new_with_free_func((GDestroyNotify)finished_free);
	g_signal_connect(fx->bus, "event", G_CALLBACK(event_cb), fx);
	fixture_use_manager(fx, 5000);
}

static void
done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	*(GAsyncResult **)user_data = g_object_ref(res);
}

static void
shutdown_sync(StdiolinkInstanceManager *m)
{
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	stdiolink_instance_manager_shutdown_async(m, NULL, done_cb, &res);
	WAIT_UNTIL(res != NULL);
	g_assert_true(stdiolink_instance_manager_shutdown_finish(m, res, &error));
	g_assert_no_error(error);
}

static guint
count_tmp_files(const char *prefix)
{
	g_autoptr(GDir) dir = g_dir_open(private_tmp, 0, NULL);
	const char *name;
	guint n = 0;

	while ((name = g_dir_read_name(dir)) != NULL) {
		if (g_str_has_prefix(name, prefix))
			n++;
	}
	return n;
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	shutdown_sync(fx->m);
	sl_test_flush_bus(fx->bus);
	g_signal_handlers_disconnect_by_data(fx->m, fx);
	g_signal_handlers_disconnect_by_data(fx->bus, fx);
	g_clear_object(&fx->m);
	g_clear_object(&fx->bus);

	/* nothing of any instance is left in the temp folder */
	g_assert_cmpuint(count_tmp_files("stdiolink_server."), ==, 0);
	g_assert_cmpuint(count_tmp_files("stdiolink_guard_"), ==, 0);

	g_ptr_array_unref(fx->events);
	g_ptr_array_unref(fx->finished);
	sl_test_remove_tree(fx->root);
	g_free(fx->root);
}

static StdiolinkInstance *
start_full(Fixture *fx,
	   const char *project_id,
	   const char *program,
	   const char *config,
	   gboolean native,
	   guint run_timeout_ms)
{
	g_autofree char *service_dir = g_build_filename(fx->root, "services", "svc", NULL);
	g_autoptr(GError) error = NULL;
	StdiolinkLaunchSpec spec = {
		.project_id = project_id,
		.service_id = "svc",
		.program = program,
		.service_dir = service_dir,
		.config_json = config,
		.native = native,
		.data_root = fx->root,
		.run_timeout_ms = run_timeout_ms,
	};
	StdiolinkInstance *inst = stdiolink_instance_manager_start(fx->m, &spec, &error);

	g_assert_no_error(error);
	g_assert_nonnull(inst);
	return inst;
}

static char *
start_service(Fixture *fx, const char *project_id, const char *config)
{
	StdiolinkInstance *inst = start_full(fx, project_id, service_program, config, FALSE, 0);

	return g_strdup(stdiolink_instance_get_id(inst));
}

static void
wait_event(Fixture *fx, const char *type, const char *id)
{
	WAIT_UNTIL(count_events(fx, type, id) > 0);
}

static char *
tmp_path(Fixture *fx, const char *name)
{
	return g_build_filename(fx->root, name, NULL);
}

static void
wait_file(const char *path)
{
	WAIT_UNTIL(g_file_test(path, G_FILE_TEST_EXISTS));
}

static JsonObject *
read_report(const char *path)
{
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *text = NULL;

	wait_file(path);
	text = sl_test_read_file(path);
	node = stdiolink_json_parse(text, -1, NULL);
	g_assert_nonnull(node);
	return json_object_ref(json_node_get_object(node));
}

static GPid
read_pid_file(const char *path)
{
	g_autofree char *text = NULL;

	wait_file(path);
	text = sl_test_read_file(path);
	return (GPid)atoi(text);
}

/* the project log without timestamps, one entry per line */
static GStrv
read_log_lines(Fixture *fx, const char *project_id)
{
	g_autofree char *name = g_strconcat(project_id, ".log", NULL);
	g_autofree char *path = g_build_filename(fx->root, "logs", name, NULL);
	g_autofree char *text = NULL;
	g_auto(GStrv) raw = NULL;
	GPtrArray *out = g_ptr_array_new();

	text = sl_test_read_file(path);
	raw = g_strsplit(text, "\n", -1);
	for (guint i = 0; raw[i] != NULL; i++) {
		if (raw[i][0] == '\0')
			continue;
		g_assert_true(g_regex_match_simple(
			"^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\| ", raw[i], 0, 0));
		g_ptr_array_add(out, g_strdup(raw[i] + strlen("2025-01-02T03:04:05.678Z | ")));
	}
	g_ptr_array_add(out, NULL);
	return (GStrv)g_ptr_array_free(out, FALSE);
}

static gint
index_of(GStrv lines, const char *line)
{
	for (gint i = 0; lines[i] != NULL; i++) {
		if (g_str_equal(lines[i], line))
			return i;
	}
	return -1;
}

static void
test_normal_run_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *id = NULL;
	g_autofree char *summary = NULL;
	g_auto(GStrv) lines = NULL;
	g_autoptr(JsonNode) json = NULL;
	StdiolinkInstance *inst;
	JsonObject *started;
	Finished *f;

	inst = start_full(fx, "p1", service_program,
			  "{\"stdout\":[\"hello\",\"world\"],\"stderr\":[\"oops\"],"
			  "\"stdoutRaw\":\"partial\",\"stderrRaw\":\"tail\\r\\nend\"}",
			  FALSE, 0);
	id = g_strdup(stdiolink_instance_get_id(inst));

	/* the caller sees "starting" with pid 0 */
	g_assert_true(g_regex_match_simple("^inst_[0-9a-f]{8}$", id, 0, 0));
	g_assert_cmpint(stdiolink_instance_get_state(inst), ==, STDIOLINK_INSTANCE_STARTING);
	g_assert_cmpint(stdiolink_instance_get_pid(inst), ==, 0);
	g_assert_true(stdiolink_instance_manager_lookup(fx->m, id) == inst);
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, "p1"), ==, 1);
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, "p2"), ==, 0);
	g_assert_cmpuint(fx->events->len, ==, 0);
	json = stdiolink_instance_to_json(inst, FALSE);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(json), "status"), ==,
			"starting");

	wait_event(fx, "instance.finished", id);
	summary = event_summary(fx, id);
	g_assert_cmpstr(summary, ==, "started finished:0:normal");
	started = find_event(fx, "instance.started", id);
	g_assert_cmpint(json_object_get_int_member(started, "pid"), >, 0);
	g_assert_cmpstr(json_object_get_string_member(started, "projectId"), ==, "p1");

	/* the scheduler hook runs once, before the event, with the record already finished */
	g_assert_cmpuint(fx->finished->len, ==, 1);
	f = g_ptr_array_index(fx->finished, 0);
	g_assert_cmpstr(f->id, ==, id);
	g_assert_cmpint(f->code, ==, 0);
	g_assert_cmpstr(f->status, ==, "normal");
	g_assert_cmpint(f->state, ==, STDIOLINK_INSTANCE_STOPPED);
	g_assert_false(f->finished_already_published);
	g_assert_cmpuint(f->live_then, ==, 0);

	/* the record is gone */
	g_assert_null(stdiolink_instance_manager_lookup(fx->m, id));
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, NULL), ==, 0);

	/* lines in pipe order; leftovers at the end, stdout before stderr; CR kept */
	lines = read_log_lines(fx, "p1");
	g_assert_cmpuint(g_strv_length(lines), ==, 6);
	g_assert_cmpint(index_of(lines, "hello"), <, index_of(lines, "world"));
	g_assert_cmpint(index_of(lines, "world"), <, index_of(lines, "partial"));
	g_assert_cmpint(index_of(lines, "[stderr] oops"), <, index_of(lines, "[stderr] tail\r"));
	g_assert_cmpint(index_of(lines, "[stderr] oops"), >=, 0);
	g_assert_cmpint(index_of(lines, "partial"), ==, 4);
	g_assert_cmpstr(lines[5], ==, "[stderr] end");
}

static void
test_events_log_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *id = start_service(fx, "p1", "{}");
	g_autofree char *path = g_build_filename(fx->root, "logs", "events.jsonl", NULL);
	g_autofree char *text = NULL;
	g_autofree char *started = NULL;
	g_autofree char *finished = NULL;
	char *s;
	char *f;

	wait_event(fx, "instance.finished", id);
	sl_test_flush_bus(fx->bus);

	/* both events are in events.jsonl, in order */
	text = sl_test_read_file(path);
	started = g_strdup_printf("\"instanceId\":\"%s\",\"pid\":", id);
	finished = g_strdup_printf("{\"data\":{\"exitCode\":0,\"instanceId\":\"%s\",\"projectId\":"
				   "\"p1\",\"status\":\"normal\"},\"ts\":\"",
				   id);
	s = strstr(text, started);
	f = strstr(text, finished);
	g_assert_nonnull(s);
	g_assert_nonnull(f);
	g_assert_true(s < f);
}

static void
test_exit_code_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *id = start_service(fx, "p1", "{\"exitCode\":3}");
	g_autofree char *summary = NULL;
	Finished *f;

	wait_event(fx, "instance.finished", id);
	summary = event_summary(fx, id);
	g_assert_cmpstr(summary, ==, "started finished:3:normal");
	f = g_ptr_array_index(fx->finished, 0);
	g_assert_cmpint(f->state, ==, STDIOLINK_INSTANCE_FAILED);
}

static void
test_crash_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *segv = start_service(fx, "p1", "{\"crash\":\"segv\"}");
	g_autofree char *abrt = start_service(fx, "p1", "{\"crash\":\"abort\"}");
	g_autofree char *s1 = NULL;
	g_autofree char *s2 = NULL;

	wait_event(fx, "instance.finished", segv);
	wait_event(fx, "instance.finished", abrt);
	s1 = event_summary(fx, segv);
	s2 = event_summary(fx, abrt);
	g_assert_cmpstr(s1, ==, "started finished:11:crashed");
	g_assert_cmpstr(s2, ==, "started finished:6:crashed");
}

static void
test_stop_grace_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *id = start_service(fx, "p1", "{\"sleepMs\":60000}");
	g_autofree char *summary = NULL;
	StdiolinkInstance *inst;

	g_assert_false(stdiolink_instance_manager_terminate(fx->m, "inst_00000000"));
	wait_event(fx, "instance.started", id);

	/* answered at once; the process honours SIGTERM long before the 5 s grace ends */
	g_assert_true(stdiolink_instance_manager_terminate(fx->m, id));
	inst = stdiolink_instance_manager_lookup(fx->m, id);
	g_assert_nonnull(inst);
	g_assert_cmpint(stdiolink_instance_get_state(inst), ==, STDIOLINK_INSTANCE_RUNNING);
	g_assert_true(stdiolink_instance_manager_terminate(fx->m, id));

	wait_event(fx, "instance.finished", id);
	summary = event_summary(fx, id);
	g_assert_cmpstr(summary, ==, "started finished:15:crashed");
}

static void
test_stop_ignore_term_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *id = NULL;
	g_autofree char *report = tmp_path(fx, "report.json");
	g_autofree char *config = NULL;
	g_autofree char *summary = NULL;
	g_autoptr(JsonObject) seen = NULL;

	fixture_use_manager(fx, 200);
	config = g_strdup_printf("{\"ignoreTerm\":true,\"sleepMs\":60000,\"report\":\"%s\"}",
				 report);
	id = start_service(fx, "p1", config);

	/* SIGTERM is ignored once the report is written */
	seen = read_report(report);
	g_assert_true(stdiolink_instance_manager_terminate(fx->m, id));
	wait_event(fx, "instance.finished", id);
	summary = event_summary(fx, id);
	g_assert_cmpstr(summary, ==, "started finished:9:crashed");
}

static void
test_stop_kills_children_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *pid_file = tmp_path(fx, "child.pid");
	g_autofree char *config = g_strdup_printf("{\"spawnChild\":\"%s\",\"sleepMs\":60000}",
						  pid_file);
	g_autofree char *id = start_service(fx, "p1", config);
	GPid child = read_pid_file(pid_file);

	g_assert_cmpint(child, >, 0);
	g_assert_false(sl_test_process_gone(child));
	g_assert_true(stdiolink_instance_manager_terminate(fx->m, id));
	wait_event(fx, "instance.finished", id);
	WAIT_UNTIL(sl_test_process_gone(child));
}

static void
test_exit_kills_children_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *pid_file = tmp_path(fx, "child.pid");
	g_autofree char *config = g_strdup_printf("{\"spawnChild\":\"%s\"}", pid_file);
	g_autofree char *id = start_service(fx, "p1", config);
	g_autofree char *summary = NULL;
	GPid child;

	/* the service exits by itself; the child it left behind must not outlive it */
	wait_event(fx, "instance.finished", id);
	child = read_pid_file(pid_file);
	summary = event_summary(fx, id);
	g_assert_cmpstr(summary, ==, "started finished:0:normal");
	WAIT_UNTIL(sl_test_process_gone(child));
}

static void
test_drain_gives_up_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *pid_file = tmp_path(fx, "child.pid");
	g_autofree char *config = g_strdup_printf(
		"{\"escapeChild\":\"%s\",\"escapeMs\":20000,\"stdout\":[\"before\"]}", pid_file);
	g_autofree char *id = start_service(fx, "p1", config);
	g_auto(GStrv) lines = NULL;
	GPid child;

	/* a child outside the group holds the pipes; the instance still ends */
	wait_event(fx, "instance.finished", id);
	child = read_pid_file(pid_file);
	g_assert_false(sl_test_process_gone(child));
	lines = read_log_lines(fx, "p1");
	g_assert_cmpint(index_of(lines, "before"), ==, 0);

	kill(child, SIGKILL);
	WAIT_UNTIL(sl_test_process_gone(child));
}

static void
check_spawn_failure(Fixture *fx, const char *program, const char *expected)
{
	StdiolinkInstance *inst = start_full(fx, "p1", program, "{}", FALSE, 0);
	g_autofree char *id = g_strdup(stdiolink_instance_get_id(inst));
	g_autofree char *summary = NULL;
	guint n_events;

	/* no error for the caller: the record exists, starting, until the idle runs */
	g_assert_cmpint(stdiolink_instance_get_state(inst), ==, STDIOLINK_INSTANCE_STARTING);
	g_assert_cmpuint(fx->events->len, ==, 0);

	wait_event(fx, "instance.finished", id);
	summary = event_summary(fx, id);
	g_assert_cmpstr(summary, ==, expected);
	g_assert_cmpuint(fx->finished->len, ==, 1);
	g_assert_null(stdiolink_instance_manager_lookup(fx->m, id));

	/* and nothing more arrives later */
	n_events = fx->events->len;
	for (guint i = 0; i < 20; i++)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpuint(fx->events->len, ==, n_events);
	g_assert_cmpuint(fx->finished->len, ==, 1);
}

static void
test_missing_program_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *program = tmp_path(fx, "no-such-program");

	check_spawn_failure(fx, program,
			    "startFailed:execve: No such file or directory finished:-1:crashed");
}

static void
test_not_executable_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *program = tmp_path(fx, "not-executable");

	g_assert_true(g_file_set_contents(program, "#!/bin/sh\nexit 0\n", -1, NULL));
	g_assert_cmpint(g_chmod(program, 0644), ==, 0);
	check_spawn_failure(fx, program,
			    "startFailed:execve: Permission denied finished:-1:crashed");
}

static void
test_guard_js_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *report = tmp_path(fx, "report.json");
	g_autofree char *config = g_strdup_printf("{\"report\":\"%s\",\"sleepMs\":60000}", report);
	g_autofree char *id = start_service(fx, "p1", config);
	g_autofree char *socket_path = NULL;
	g_autofree char *config_arg = NULL;
	g_autofree char *guard_arg = NULL;
	g_autofree char *root_arg = NULL;
	g_autofree char *service_dir = g_build_filename(fx->root, "services", "svc", NULL);
	g_autoptr(JsonObject) seen = read_report(report);
	StdiolinkInstance *inst = stdiolink_instance_manager_lookup(fx->m, id);
	const char *guard = stdiolink_instance_get_guard_name(inst);
	const char *const *cmd = stdiolink_instance_get_command_line(inst);
	JsonArray *argv = json_object_get_array_member(seen, "argv");
	struct stat st;

	/* the service connected to the socket named by --guard */
	g_assert_true(g_regex_match_simple(
		"^stdiolink_guard_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",
		guard, 0, 0));
	g_assert_true(json_object_get_boolean_member(seen, "guardConnected"));
	g_assert_cmpstr(json_object_get_string_member(seen, "guard"), ==, guard);
	g_assert_true(json_node_is_null(json_object_get_member(seen, "guardEnv")));

	/* argv = [program, service dir, --config-file, --guard, --data-root] */
	config_arg = g_strconcat("--config-file=", stdiolink_instance_get_config_path(inst), NULL);
	guard_arg = g_strconcat("--guard=", guard, NULL);
	root_arg = g_strconcat("--data-root=", fx->root, NULL);
	g_assert_cmpuint(json_array_get_length(argv), ==, 5);
	g_assert_cmpuint(g_strv_length((GStrv)cmd), ==, 5);
	g_assert_cmpstr(cmd[0], ==, service_program);
	g_assert_cmpstr(cmd[1], ==, service_dir);
	g_assert_cmpstr(cmd[2], ==, config_arg);
	g_assert_cmpstr(cmd[3], ==, guard_arg);
	g_assert_cmpstr(cmd[4], ==, root_arg);
	for (guint i = 0; i < 5; i++)
		g_assert_cmpstr(json_array_get_string_element(argv, i), ==, cmd[i]);

	/* the socket exists, world-accessible, while the instance runs ... */
	socket_path = g_build_filename(private_tmp, guard, NULL);
	g_assert_cmpint(g_stat(socket_path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));
	g_assert_cmpint(st.st_mode & 0777, ==, 0777);

	/* ... and is gone with the record */
	g_assert_true(stdiolink_instance_manager_terminate(fx->m, id));
	wait_event(fx, "instance.finished", id);
	g_assert_false(g_file_test(socket_path, G_FILE_TEST_EXISTS));
}

static void
test_guard_native_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *report = tmp_path(fx, "report.json");
	g_autofree char *config = g_strdup_printf("{\"report\":\"%s\"}", report);
	StdiolinkInstance *inst = start_full(fx, "p1", service_program, config, TRUE, 0);
	g_autofree char *id = g_strdup(stdiolink_instance_get_id(inst));
	g_autofree char *guard = g_strdup(stdiolink_instance_get_guard_name(inst));
	const char *const *cmd = stdiolink_instance_get_command_line(inst);
	g_autofree char *summary = NULL;
	g_autoptr(JsonObject) seen = NULL;

	/* argv = [program, --config-file, --data-root]; the guard name comes by environment */
	g_assert_cmpuint(g_strv_length((GStrv)cmd), ==, 3);
	g_assert_true(g_str_has_prefix(cmd[1], "--config-file="));
	g_assert_true(g_str_has_prefix(cmd[2], "--data-root="));

	wait_event(fx, "instance.finished", id);
	seen = read_report(report);
	g_assert_cmpstr(json_object_get_string_member(seen, "guardEnv"), ==, guard);
	g_assert_true(json_object_get_boolean_member(seen, "guardConnected"));
	summary = event_summary(fx, id);
	g_assert_cmpstr(summary, ==, "started finished:0:normal");
}

static void
test_guard_close_func(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(StdiolinkProcessGuard) guard = stdiolink_process_guard_new(&error);
	g_autofree char *config_path = g_build_filename(private_tmp, "guard-close.json", NULL);
	g_autofree char *guard_arg = NULL;
	g_autofree char *config_arg = g_strconcat("--config-file=", config_path, NULL);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GAsyncResult) res = NULL;

	g_assert_no_error(error);
	g_assert_true(g_file_set_contents(config_path, "{\"sleepMs\":60000}", -1, NULL));
	guard_arg = g_strconcat("--guard=", stdiolink_process_guard_get_name(guard), NULL);
	proc = g_subprocess_new(G_SUBPROCESS_FLAGS_NONE, &error, service_program, "/", config_arg,
				guard_arg, "--data-root=/", NULL);
	g_assert_no_error(error);

	/* the service holds a connection; when we close it, it exits 1 by itself */
	WAIT_UNTIL(stdiolink_process_guard_get_n_connections(guard) == 1);
	stdiolink_process_guard_close(guard);
	g_assert_false(g_file_test(stdiolink_process_guard_get_path(guard), G_FILE_TEST_EXISTS));
	g_subprocess_wait_async(proc, NULL, done_cb, &res);
	WAIT_UNTIL(res != NULL);
	g_assert_true(g_subprocess_wait_finish(proc, res, NULL));
	g_assert_true(g_subprocess_get_if_exited(proc));
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 1);
	g_unlink(config_path);
}

static void
test_guard_missing_func(void)
{
	g_autofree char *config_path = g_build_filename(private_tmp, "guard-missing.json", NULL);
	g_autofree char *config_arg = g_strconcat("--config-file=", config_path, NULL);
	g_autoptr(GSubprocess) proc = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;

	/* no socket to connect to: the test service gives up like the real runtime */
	g_assert_true(g_file_set_contents(config_path, "{}", -1, NULL));
	proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, service_program,
				config_arg, "--guard=stdiolink_guard_nobody", NULL);
	g_assert_no_error(error);
	g_subprocess_wait_async(proc, NULL, done_cb, &res);
	WAIT_UNTIL(res != NULL);
	g_assert_true(g_subprocess_wait_finish(proc, res, NULL));
	g_assert_cmpint(g_subprocess_get_exit_status(proc), ==, 1);
	g_unlink(config_path);
}

static void
test_guard_stale_func(void)
{
	g_autofree char *path = g_build_filename(private_tmp, "stdiolink_guard_stale", NULL);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	g_autoptr(StdiolinkProcessGuard) guard = NULL;
	g_autoptr(GError) error = NULL;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct stat st;

	/* a socket file left by a dead daemon */
	g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	g_assert_cmpint(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	close(fd);
	g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));

	guard = stdiolink_process_guard_new_with_name("stdiolink_guard_stale", &error);
	g_assert_no_error(error);
	g_assert_cmpstr(stdiolink_process_guard_get_path(guard), ==, path);
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_true(S_ISSOCK(st.st_mode));

	stdiolink_process_guard_close(guard);
	stdiolink_process_guard_close(guard);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void
test_workspace_env_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *report = tmp_path(fx, "report.json");
	g_autofree char *config = g_strdup_printf("{\"report\":\"%s\"}", report);
	g_autofree char *workspace = g_build_filename(fx->root, "projects", "p1", "workspace",
						      NULL);
	g_autofree char *id = NULL;
	g_autofree char *exe_dir = NULL;
	g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *path_prefix = NULL;
	g_autoptr(JsonObject) seen = NULL;
	StdiolinkInstance *inst;

	g_assert_false(g_file_test(workspace, G_FILE_TEST_EXISTS));
	inst = start_full(fx, "p1", service_program, config, FALSE, 0);
	id = g_strdup(stdiolink_instance_get_id(inst));

	/* created on demand and used as the working directory */
	g_assert_true(g_file_test(workspace, G_FILE_TEST_IS_DIR));
	g_assert_cmpstr(stdiolink_instance_get_working_directory(inst), ==, workspace);
	wait_event(fx, "instance.finished", id);
	seen = read_report(report);
	g_assert_cmpstr(json_object_get_string_member(seen, "cwd"), ==, workspace);

	/* PATH starts with the daemon executable's folder */
	exe_dir = g_path_get_dirname(exe);
	path_prefix = g_strconcat(exe_dir, ":", NULL);
	g_assert_true(g_str_has_prefix(json_object_get_string_member(seen, "path"), path_prefix));
}

static void
test_temp_config_func(Fixture *fx, gconstpointer data)
{
	const char *config = "{\"sleepMs\":60000,\"x\":\"\xc3\xa9\"}";
	StdiolinkInstance *inst = start_full(fx, "p1", service_program, config, FALSE, 0);
	g_autofree char *id = g_strdup(stdiolink_instance_get_id(inst));
	g_autofree char *path = g_strdup(stdiolink_instance_get_config_path(inst));
	g_autofree char *base = g_path_get_basename(path);
	g_autofree char *text = NULL;
	struct stat st;

	/* stdiolink_server.XXXXXX, 0600, in the temp folder, holding the config */
	g_assert_true(g_regex_match_simple("^stdiolink_server\\.[A-Za-z0-9]{6}$", base, 0, 0));
	g_assert_true(g_str_has_prefix(path, private_tmp));
	g_assert_cmpint(g_stat(path, &st), ==, 0);
	g_assert_cmpint(st.st_mode & 0777, ==, 0600);
	text = sl_test_read_file(path);
	g_assert_cmpstr(text, ==, config);

	/* deleted with the record */
	stdiolink_instance_manager_terminate(fx->m, id);
	wait_event(fx, "instance.finished", id);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void
test_to_json_func(Fixture *fx, gconstpointer data)
{
	StdiolinkInstance *inst = start_full(fx, "p1", service_program, "{\"sleepMs\":60000}",
					     FALSE, 0);
	g_autofree char *id = g_strdup(stdiolink_instance_get_id(inst));
	g_autofree char *log_path = g_build_filename(fx->root, "logs", "p1.log", NULL);
	g_autoptr(JsonNode) brief = NULL;
	g_autoptr(JsonNode) detail = NULL;
	JsonObject *obj;
	JsonArray *cmd;

	wait_event(fx, "instance.started", id);
	brief = stdiolink_instance_to_json(inst, FALSE);
	obj = json_node_get_object(brief);
	g_assert_cmpuint(json_object_get_size(obj), ==, 6);
	g_assert_cmpstr(json_object_get_string_member(obj, "id"), ==, id);
	g_assert_cmpstr(json_object_get_string_member(obj, "projectId"), ==, "p1");
	g_assert_cmpstr(json_object_get_string_member(obj, "serviceId"), ==, "svc");
	g_assert_cmpstr(json_object_get_string_member(obj, "status"), ==, "running");
	g_assert_cmpint(json_object_get_int_member(obj, "pid"), ==,
			json_object_get_int_member(find_event(fx, "instance.started", id), "pid"));
	g_assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$",
					   json_object_get_string_member(obj, "startedAt"), 0,
					   0));

	detail = stdiolink_instance_to_json(inst, TRUE);
	obj = json_node_get_object(detail);
	g_assert_cmpuint(json_object_get_size(obj), ==, 9);
	g_assert_cmpstr(json_object_get_string_member(obj, "logPath"), ==, log_path);
	g_assert_cmpstr(stdiolink_instance_get_log_path(inst), ==, log_path);
	g_assert_true(g_str_has_suffix(json_object_get_string_member(obj, "workingDirectory"),
				       "/projects/p1/workspace"));
	cmd = json_object_get_array_member(obj, "commandLine");
	g_assert_cmpuint(json_array_get_length(cmd), ==, 5);
	g_assert_cmpstr(json_array_get_string_element(cmd, 0), ==, service_program);
	g_assert_cmpstr(stdiolink_instance_state_to_string(STDIOLINK_INSTANCE_STOPPED), ==,
			"stopped");
	g_assert_cmpstr(stdiolink_instance_state_to_string(STDIOLINK_INSTANCE_FAILED), ==,
			"failed");
}

static void
test_list_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *a = start_service(fx, "p1", "{\"sleepMs\":60000}");
	g_autofree char *b = start_service(fx, "p2", "{\"sleepMs\":60000}");
	g_autofree char *c = start_service(fx, "p1", "{\"sleepMs\":60000}");
	g_autoptr(GPtrArray) all = stdiolink_instance_manager_list(fx->m, NULL);
	g_autoptr(GPtrArray) p1 = stdiolink_instance_manager_list(fx->m, "p1");
	g_autoptr(GPtrArray) none = stdiolink_instance_manager_list(fx->m, "p3");

	/* ordered by instance id */
	g_assert_cmpuint(all->len, ==, 3);
	for (guint i = 1; i < all->len; i++)
		g_assert_cmpstr(stdiolink_instance_get_id(g_ptr_array_index(all, i - 1)), <,
				stdiolink_instance_get_id(g_ptr_array_index(all, i)));
	g_assert_cmpuint(p1->len, ==, 2);
	g_assert_cmpuint(none->len, ==, 0);
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, NULL), ==, 3);
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, "p1"), ==, 2);
	g_assert_cmpuint(stdiolink_instance_manager_terminate_project(fx->m, "p1"), ==, 2);
	g_assert_cmpuint(stdiolink_instance_manager_terminate_project(fx->m, "p3"), ==, 0);
	wait_event(fx, "instance.finished", a);
	wait_event(fx, "instance.finished", c);
	g_assert_cmpuint(count_events(fx, "instance.finished", b), ==, 0);
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, NULL), ==, 1);
}

static void
test_run_timeout_func(Fixture *fx, gconstpointer data)
{
	StdiolinkInstance *inst = start_full(fx, "p1", service_program, "{\"sleepMs\":60000}",
					     FALSE, 300);
	g_autofree char *id = g_strdup(stdiolink_instance_get_id(inst));
	g_autofree char *summary = NULL;
	g_auto(GStrv) lines = NULL;

	/* an ordinary crash with SIGKILL, and a stderr line in the project log */
	wait_event(fx, "instance.finished", id);
	summary = event_summary(fx, id);
	g_assert_cmpstr(summary, ==, "started finished:9:crashed");
	lines = read_log_lines(fx, "p1");
	g_assert_cmpint(index_of(lines, "[stderr] service run timeout (300 ms)"), >=, 0);
}

static void
test_big_partial_line_func(Fixture *fx, gconstpointer data)
{
	const gsize total = 1258291; /* 1.2 MiB of 'x', no newline */
	g_autofree char *config = g_strdup_printf("{\"bigPartial\":%" G_GSIZE_FORMAT "}", total);
	g_autofree char *id = start_service(fx, "p1", config);
	g_auto(GStrv) lines = NULL;
	gsize sum = 0;

	/* cut once it passed 1 MiB, the rest flushed at the end */
	wait_event(fx, "instance.finished", id);
	lines = read_log_lines(fx, "p1");
	g_assert_cmpuint(g_strv_length(lines), ==, 2);
	g_assert_cmpuint(strlen(lines[0]), >, 1048576);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_assert_cmpuint(strspn(lines[i], "x"), ==, strlen(lines[i]));
		sum += strlen(lines[i]);
	}
	g_assert_cmpuint(sum, ==, total);
}

static void
test_stop_project_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *a = start_service(fx, "p1", "{\"sleepMs\":60000}");
	g_autofree char *b = start_service(fx, "p1", "{\"sleepMs\":60000}");
	g_autofree char *c = start_service(fx, "p2", "{\"sleepMs\":60000}");
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GAsyncResult) res_empty = NULL;
	g_autoptr(GError) error = NULL;

	wait_event(fx, "instance.started", a);
	stdiolink_instance_manager_stop_project_async(fx->m, "p1", 10000, NULL, done_cb, &res);
	WAIT_UNTIL(res != NULL);
	g_assert_true(stdiolink_instance_manager_stop_project_finish(fx->m, res, &error));
	g_assert_no_error(error);

	/* both p1 instances finished before the answer; p2 is untouched */
	g_assert_cmpuint(count_events(fx, "instance.finished", a), ==, 1);
	g_assert_cmpuint(count_events(fx, "instance.finished", b), ==, 1);
	g_assert_cmpuint(count_events(fx, "instance.finished", c), ==, 0);
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, "p1"), ==, 0);
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, "p2"), ==, 1);

	/* nothing to stop: done at once */
	stdiolink_instance_manager_stop_project_async(fx->m, "p9", 10000, NULL, done_cb,
						      &res_empty);
	WAIT_UNTIL(res_empty != NULL);
	g_assert_true(stdiolink_instance_manager_stop_project_finish(fx->m, res_empty, NULL));
}

static void
test_stop_project_timeout_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *report = tmp_path(fx, "report.json");
	g_autofree char *config = g_strdup_printf(
		"{\"ignoreTerm\":true,\"sleepMs\":60000,\"report\":\"%s\"}", report);
	g_autofree char *id = NULL;
	g_autofree char *summary = NULL;
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) seen = NULL;

	fixture_use_manager(fx, 1500);
	id = start_service(fx, "p1", config);
	seen = read_report(report);

	/* the instance outlives the 100 ms wait, then dies at the end of the grace period */
	stdiolink_instance_manager_stop_project_async(fx->m, "p1", 100, NULL, done_cb, &res);
	WAIT_UNTIL(res != NULL);
	g_assert_false(stdiolink_instance_manager_stop_project_finish(fx->m, res, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_TERMINATE_TIMEOUT);
	g_assert_cmpstr(error->message, ==,
			"project instances still running after stop timeout: p1");
	g_assert_cmpuint(count_events(fx, "instance.finished", id), ==, 0);

	wait_event(fx, "instance.finished", id);
	summary = event_summary(fx, id);
	g_assert_cmpstr(summary, ==, "started finished:9:crashed");
}

static void
test_stop_project_cancel_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *report = tmp_path(fx, "report.json");
	g_autofree char *config = g_strdup_printf(
		"{\"ignoreTerm\":true,\"sleepMs\":60000,\"report\":\"%s\"}", report);
	g_autofree char *id = start_service(fx, "p1", config);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GAsyncResult) res = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonObject) seen = read_report(report);

	/* the caller gives up waiting; the instance keeps its grace period */
	stdiolink_instance_manager_stop_project_async(fx->m, "p1", 60000, cancellable, done_cb,
						      &res);
	g_cancellable_cancel(cancellable);
	WAIT_UNTIL(res != NULL);
	g_assert_false(stdiolink_instance_manager_stop_project_finish(fx->m, res, &error));
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_cmpuint(count_events(fx, "instance.finished", id), ==, 0);

	stdiolink_instance_kill(stdiolink_instance_manager_lookup(fx->m, id));
	wait_event(fx, "instance.finished", id);
}

static void
test_shutdown_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;
	g_autofree char *s1 = NULL;
	g_autofree char *s2 = NULL;

	fixture_use_manager(fx, 200);
	a = start_service(fx, "p1", "{\"sleepMs\":60000}");
	b = start_service(fx, "p2", "{\"ignoreTerm\":true,\"sleepMs\":60000}");
	wait_event(fx, "instance.started", a);
	wait_event(fx, "instance.started", b);

	/* SIGTERM to all, SIGKILL to the one that ignores it */
	shutdown_sync(fx->m);
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, NULL), ==, 0);
	s1 = event_summary(fx, a);
	g_assert_cmpstr(s1, ==, "started finished:15:crashed");
	s2 = event_summary(fx, b);
	g_assert_true(g_str_equal(s2, "started finished:9:crashed") ||
		      g_str_equal(s2, "started finished:15:crashed"));
}

static void
test_dispose_kills_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *pid_file = tmp_path(fx, "child.pid");
	g_autofree char *config = g_strdup_printf("{\"spawnChild\":\"%s\",\"sleepMs\":60000}",
						  pid_file);
	g_autofree char *id = start_service(fx, "p1", config);
	GPid child = read_pid_file(pid_file);

	/* dropping the manager kills what still runs and publishes nothing more */
	fixture_use_manager(fx, 5000);
	WAIT_UNTIL(sl_test_process_gone(child));
	g_assert_cmpuint(count_events(fx, "instance.finished", id), ==, 0);
	g_assert_cmpuint(count_tmp_files("stdiolink_server."), ==, 0);
	g_assert_cmpuint(count_tmp_files("stdiolink_guard_"), ==, 0);
}

static void
test_workspace_error_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *projects = g_build_filename(fx->root, "projects", NULL);
	g_autofree char *blocker = g_build_filename(projects, "p1", NULL);
	g_autofree char *expected = NULL;
	g_autofree char *service_dir = g_build_filename(fx->root, "services", "svc", NULL);
	g_autoptr(GError) error = NULL;
	StdiolinkLaunchSpec spec = {
		.project_id = "p1",
		.program = service_program,
		.service_dir = service_dir,
		.config_json = "{}",
		.data_root = fx->root,
	};

	/* the project folder is a file: no workspace, no record, no temp file left */
	g_assert_cmpint(g_mkdir(projects, 0755), ==, 0);
	g_assert_true(g_file_set_contents(blocker, "x", -1, NULL));
	g_assert_null(stdiolink_instance_manager_start(fx->m, &spec, &error));
	expected = g_strdup_printf("cannot create workspace: %s/projects/p1/workspace", fx->root);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED);
	g_assert_cmpstr(error->message, ==, expected);
	g_assert_cmpuint(stdiolink_instance_manager_count_live(fx->m, NULL), ==, 0);
	g_assert_cmpuint(count_tmp_files("stdiolink_server."), ==, 0);
	g_assert_cmpuint(fx->events->len, ==, 0);
}

static void
test_logs_dir_error_func(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *root = sl_test_make_tmp_dir("sl-inst-root-XXXXXX");
	g_autofree char *logs = g_build_filename(root, "logs", NULL);
	g_autofree char *expected = g_strdup_printf("cannot create logs directory: %s", logs);
	g_autoptr(StdiolinkEventBus) bus = stdiolink_event_bus_new(NULL);
	g_autoptr(StdiolinkInstanceManager) m = stdiolink_instance_manager_new(bus, root, 5000,
										1 << 20, 2);
	StdiolinkLaunchSpec spec = {
		.project_id = "p1",
		.program = service_program,
		.service_dir = root,
		.config_json = "{}",
		.data_root = root,
	};

	g_assert_true(g_file_set_contents(logs, "x", -1, NULL));
	g_assert_null(stdiolink_instance_manager_start(m, &spec, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED);
	g_assert_cmpstr(error->message, ==, expected);
	g_assert_cmpuint(count_tmp_files("stdiolink_server."), ==, 0);
	sl_test_remove_tree(root);
}

/* run in a child process whose TMPDIR the parent chose */
static void
expect_start_error(const char *message)
{
	const char *root = g_getenv("SL_TEST_ROOT");
	g_autoptr(StdiolinkEventBus) bus = stdiolink_event_bus_new(NULL);
	g_autoptr(StdiolinkInstanceManager) m = stdiolink_instance_manager_new(bus, root, 5000,
										1 << 20, 2);
	g_autoptr(GError) error = NULL;
	g_autoptr(GDir) dir = NULL;
	StdiolinkLaunchSpec spec = {
		.project_id = "p1",
		.program = service_program,
		.service_dir = root,
		.config_json = "{}",
		.data_root = root,
	};

	g_assert_null(stdiolink_instance_manager_start(m, &spec, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED);
	g_assert_cmpstr(error->message, ==, message);

	/* a temp config written before the failure is removed again */
	dir = g_dir_open(g_get_tmp_dir(), 0, NULL);
	while (dir != NULL) {
		const char *name = g_dir_read_name(dir);

		if (name == NULL)
			break;
		g_assert_false(g_str_has_prefix(name, "stdiolink_server."));
	}
}

static void
trap_with_tmpdir(const char *tmpdir)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-inst-root-XXXXXX");
	g_autofree char *old = g_strdup(g_getenv("TMPDIR"));

	g_setenv("SL_TEST_ROOT", root, TRUE);
	g_setenv("TMPDIR", tmpdir, TRUE);
	g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
	g_setenv("TMPDIR", old, TRUE);
	g_unsetenv("SL_TEST_ROOT");
	sl_test_remove_tree(root);
	g_test_trap_assert_passed();
}

static void
test_temp_config_error_func(void)
{
	g_autofree char *missing = NULL;

	if (g_test_subprocess()) {
		expect_start_error("cannot create temp config file");
		return;
	}
	missing = g_build_filename(private_tmp, "does", "not", "exist", NULL);
	trap_with_tmpdir(missing);
}

static void
test_guard_error_func(void)
{
	g_autofree char *long_name = NULL;
	g_autofree char *long_dir = NULL;

	if (g_test_subprocess()) {
		expect_start_error("failed to start process guard server");
		return;
	}

	/* a temp folder whose socket path cannot fit in sun_path */
	long_name = g_strnfill(100, 'd');
	long_dir = g_build_filename(private_tmp, long_name, NULL);
	g_assert_cmpint(g_mkdir(long_dir, 0700), ==, 0);
	trap_with_tmpdir(long_dir);
	g_rmdir(long_dir);
}

static void
add_fixture_test(const char *path, void (*func)(Fixture *, gconstpointer))
{
	g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown);
}

int
main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);

	/* our own TMPDIR, unless the parent test process chose one for us */
	if (!g_test_subprocess()) {
		private_tmp = g_strdup("/tmp/sl-inst-tmp-XXXXXX");
		g_assert_nonnull(g_mkdtemp(private_tmp));
		g_setenv("TMPDIR", private_tmp, TRUE);
	} else {
		private_tmp = g_strdup(g_getenv("TMPDIR"));
	}
	service_program = g_test_build_filename(G_TEST_BUILT, "sl-test-service", NULL);

	add_fixture_test("/instance/normal-run", test_normal_run_func);
	add_fixture_test("/instance/events-log", test_events_log_func);
	add_fixture_test("/instance/exit-code", test_exit_code_func);
	add_fixture_test("/instance/crash", test_crash_func);
	add_fixture_test("/instance/stop-grace", test_stop_grace_func);
	add_fixture_test("/instance/stop-ignore-term", test_stop_ignore_term_func);
	add_fixture_test("/instance/stop-kills-children", test_stop_kills_children_func);
	add_fixture_test("/instance/exit-kills-children", test_exit_kills_children_func);
	add_fixture_test("/instance/drain-gives-up", test_drain_gives_up_func);
	add_fixture_test("/instance/missing-program", test_missing_program_func);
	add_fixture_test("/instance/not-executable", test_not_executable_func);
	add_fixture_test("/instance/guard-js", test_guard_js_func);
	add_fixture_test("/instance/guard-native", test_guard_native_func);
	g_test_add_func("/instance/guard-close", test_guard_close_func);
	g_test_add_func("/instance/guard-missing", test_guard_missing_func);
	g_test_add_func("/instance/guard-stale", test_guard_stale_func);
	add_fixture_test("/instance/workspace-env", test_workspace_env_func);
	add_fixture_test("/instance/temp-config", test_temp_config_func);
	add_fixture_test("/instance/to-json", test_to_json_func);
	add_fixture_test("/instance/list", test_list_func);
	add_fixture_test("/instance/run-timeout", test_run_timeout_func);
	add_fixture_test("/instance/big-partial-line", test_big_partial_line_func);
	add_fixture_test("/instance/stop-project", test_stop_project_func);
	add_fixture_test("/instance/stop-project-timeout", test_stop_project_timeout_func);
	add_fixture_test("/instance/stop-project-cancel", test_stop_project_cancel_func);
	add_fixture_test("/instance/shutdown", test_shutdown_func);
	add_fixture_test("/instance/dispose-kills", test_dispose_kills_func);
	add_fixture_test("/instance/workspace-error", test_workspace_error_func);
	g_test_add_func("/instance/logs-dir-error", test_logs_dir_error_func);
	g_test_add_func("/instance/temp-config-error", test_temp_config_error_func);
	g_test_add_func("/instance/guard-error", test_guard_error_func);

	rc = g_test_run();
	if (!g_test_subprocess())
		sl_test_remove_tree(private_tmp);
	g_free(private_tmp);
	g_free(service_program);
	return rc;
}

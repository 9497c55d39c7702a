#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "sl-daemon-fixture.h"
#include "sl-test-cli.h"
#include "sl-test-utils.h"

/*
 * stdiolinkctl against a real stdiolinkd: the commands that change projects, read logs and
 * processes, and watch events. A route the daemon does not have yet answers 404 "not found"
 * (not "project not found"); those tests are skipped rather than failed.
 */

/* plain text, whatever the terminal: the tests compare it */
static const char *const no_colour[] = {"NO_COLOR=1", NULL};

#define RUN_CLI(fx, r, ...) sl_cli_run_env((fx), (r), no_colour, __VA_ARGS__, NULL)

/* the daemon has no such route yet: skip, so that the suite stays green meanwhile */
static gboolean
route_missing(SlCliResult *r, const char *what)
{
	g_autofree char *message = NULL;

	if (r->status != 1 || g_strcmp0(r->err, "stdiolinkctl: not found\n") != 0)
		return FALSE;
	message = g_strdup_printf("the daemon has no route for %s yet", what);
	g_test_skip(message);
	return TRUE;
}

static void
assert_success(SlCliResult *r)
{
	if (r->status != 0)
		g_test_message("exit %d, stderr: %s", r->status, r->err);
	g_assert_cmpint(r->status, ==, 0);
	g_assert_cmpstr(r->err, ==, "");
}

static const char *test_schema =
    "{\"sleepMs\":{\"type\":\"int\",\"default\":0},"
    "\"stdout\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
    "\"spawnChild\":{\"type\":\"string\"},"
    "\"port\":{\"type\":\"int\",\"default\":8080,\"constraints\":{\"max\":65535}}}";

static void
setup(SlDaemonFixture *fx)
{
	sl_daemon_fixture_init(fx);
	sl_daemon_fixture_add_test_service(fx, "svc", test_schema);
	sl_daemon_fixture_add_project(fx, "keep", "svc",
				      "{\"type\":\"fixed_rate\",\"intervalMs\":600000,"
				      "\"maxConcurrent\":2,\"runTimeoutMs\":5000}",
				      "{\"sleepMs\":5,\"port\":9001}");
	sl_daemon_fixture_add_project(fx, "talker", "svc", NULL,
				      "{\"stdout\":[\"alpha\",\"beta\",\"gamma\"]}");
	sl_daemon_fixture_start(fx);
}

static JsonObject *
get_project(SlDaemonFixture *fx, const char *id, JsonNode **keep)
{
	g_autofree char *path = g_strdup_printf("/api/projects/%s", id);
	guint status = 0;

	*keep = sl_daemon_fixture_request(fx, "GET", path, NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	return json_node_get_object(*keep);
}

static gint64
member_int(JsonObject *object, const char *path)
{
	g_auto(GStrv) steps = g_strsplit(path, ".", -1);
	JsonObject *at = object;
	guint last = g_strv_length(steps) - 1;

	for (guint i = 0; i < last; i++)
		at = stdiolink_json_object_get_object(at, steps[i]);
	g_assert_nonnull(at);
	g_assert_true(json_object_has_member(at, steps[last]));
	return json_object_get_int_member(at, steps[last]);
}

/* ---- create, update, delete ----------------------------------------------------------- */

static void
test_create_flags_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *config_path = NULL;
	JsonObject *project;
	JsonArray *lines;

	setup(&fx);
	RUN_CLI(&fx, &r, "projects", "create", "--id", "made", "--name", "Made here",
		"--service", "svc", "--schedule", "fixed_rate", "--interval-ms", "60000",
		"--max-concurrent", "3", "--disabled", "--set", "port=9000", "--set",
		"stdout=[\"x\"]");
	assert_success(&r);
	g_assert_cmpstr(r.out, ==, "Created project “made” (disabled).\n");

	project = get_project(&fx, "made", &node);
	g_assert_cmpstr(stdiolink_json_object_get_string(project, "name"), ==, "Made here");
	g_assert_cmpstr(stdiolink_json_object_get_string(project, "serviceId"), ==, "svc");
	g_assert_false(json_object_get_boolean_member(project, "enabled"));
	g_assert_cmpstr(stdiolink_json_object_get_string(
			    stdiolink_json_object_get_object(project, "schedule"), "type"),
			==, "fixed_rate");
	g_assert_cmpint(member_int(project, "schedule.intervalMs"), ==, 60000);
	g_assert_cmpint(member_int(project, "schedule.maxConcurrent"), ==, 3);
	g_assert_cmpint(member_int(project, "config.port"), ==, 9000);
	lines = json_object_get_array_member(stdiolink_json_object_get_object(project, "config"),
					     "stdout");
	g_assert_cmpuint(json_array_get_length(lines), ==, 1);
	config_path = sl_daemon_fixture_path(&fx, "projects/made/config.json");
	g_assert_true(g_file_test(config_path, G_FILE_TEST_IS_REGULAR));

	/* the daemon's refusals: exit 1 with its message */
	RUN_CLI(&fx, &r, "projects", "create", "--id", "made", "--name", "Again", "--service",
		"svc");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: project already exists\n");
	RUN_CLI(&fx, &r, "projects", "create", "--id", "bad", "--name", "Bad", "--service",
		"svc", "--set", "port=70000");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_true(g_str_has_prefix(r.err, "stdiolinkctl: project invalid: "));
	RUN_CLI(&fx, &r, "projects", "create", "--id", "bad", "--name", "Bad", "--service",
		"svc", "--schedule", "fixed_rate", "--interval-ms", "50");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "schedule.intervalMs must be >= 100"));

	sl_daemon_fixture_clear(&fx);
}

static void
test_create_file_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) node = NULL;
	g_autoptr(JsonNode) answer = NULL;
	g_autofree char *dir = sl_test_make_tmp_dir("stdiolinkctl-XXXXXX");
	g_autofree char *file = g_build_filename(dir, "filed.json", NULL);
	JsonObject *project;

	setup(&fx);
	g_assert_true(g_file_set_contents(file,
					  "{\"id\":\"filed\",\"name\":\"From a file\","
					  "\"serviceId\":\"svc\",\"enabled\":false,"
					  "\"schedule\":{\"type\":\"daemon\","
					  "\"restartDelayMs\":100},\"config\":{\"port\":7000}}",
					  -1, NULL));

	/* --json: the API's ProjectJSON */
	RUN_CLI(&fx, &r, "--json", "projects", "create", "--file", file, "--max-failures", "2");
	assert_success(&r);
	answer = stdiolink_json_parse(r.out, -1, NULL);
	g_assert_nonnull(answer);
	g_assert_cmpstr(stdiolink_json_object_get_string(json_node_get_object(answer), "id"), ==,
			"filed");

	project = get_project(&fx, "filed", &node);
	g_assert_cmpstr(stdiolink_json_object_get_string(project, "name"), ==, "From a file");
	g_assert_cmpint(member_int(project, "schedule.restartDelayMs"), ==, 100);
	g_assert_cmpint(member_int(project, "schedule.maxConsecutiveFailures"), ==, 2);
	g_assert_cmpint(member_int(project, "config.port"), ==, 7000);

	sl_daemon_fixture_clear(&fx);
	sl_test_remove_tree(dir);
}

static void
test_update_keeps_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autofree char *dir = sl_test_make_tmp_dir("stdiolinkctl-XXXXXX");
	g_autofree char *file = g_build_filename(dir, "keep.json", NULL);

	setup(&fx);

	/* a new name: schedule, configuration and enabled stay */
	RUN_CLI(&fx, &r, "projects", "update", "keep", "--name", "Renamed");
	assert_success(&r);
	g_assert_cmpstr(r.out, ==, "Updated project “keep” (stopped).\n");
	{
		g_autoptr(JsonNode) node = NULL;
		JsonObject *project = get_project(&fx, "keep", &node);

		g_assert_cmpstr(stdiolink_json_object_get_string(project, "name"), ==, "Renamed");
		g_assert_cmpstr(stdiolink_json_object_get_string(project, "serviceId"), ==, "svc");
		g_assert_true(json_object_get_boolean_member(project, "enabled"));
		g_assert_cmpint(member_int(project, "schedule.intervalMs"), ==, 600000);
		g_assert_cmpint(member_int(project, "schedule.maxConcurrent"), ==, 2);
		g_assert_cmpint(member_int(project, "schedule.runTimeoutMs"), ==, 5000);
		g_assert_cmpint(member_int(project, "config.sleepMs"), ==, 5);
		g_assert_cmpint(member_int(project, "config.port"), ==, 9001);
	}

	/* one value and the state change; the rest stays */
	RUN_CLI(&fx, &r, "projects", "update", "keep", "--set", "port=9002", "--disabled",
		"--interval-ms", "1000");
	assert_success(&r);
	{
		g_autoptr(JsonNode) node = NULL;
		JsonObject *project = get_project(&fx, "keep", &node);

		g_assert_cmpstr(stdiolink_json_object_get_string(project, "name"), ==, "Renamed");
		g_assert_false(json_object_get_boolean_member(project, "enabled"));
		g_assert_cmpint(member_int(project, "schedule.intervalMs"), ==, 1000);
		g_assert_cmpint(member_int(project, "schedule.maxConcurrent"), ==, 2);
		g_assert_cmpint(member_int(project, "config.sleepMs"), ==, 5);
		g_assert_cmpint(member_int(project, "config.port"), ==, 9002);
	}

	/* --file is the whole project, as PUT is: what it lacks takes the default */
	g_assert_true(g_file_set_contents(file, "{\"name\":\"Bare\",\"serviceId\":\"svc\"}", -1,
					  NULL));
	RUN_CLI(&fx, &r, "projects", "update", "keep", "--file", file);
	assert_success(&r);
	{
		g_autoptr(JsonNode) node = NULL;
		JsonObject *project = get_project(&fx, "keep", &node);

		g_assert_true(json_object_get_boolean_member(project, "enabled"));
		g_assert_cmpstr(stdiolink_json_object_get_string(
				    stdiolink_json_object_get_object(project, "schedule"), "type"),
				==, "manual");
		g_assert_cmpint(member_int(project, "config.port"), ==, 8080);
	}

	/* unknown project */
	RUN_CLI(&fx, &r, "projects", "update", "nope", "--name", "x");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: project not found\n");

	sl_daemon_fixture_clear(&fx);
	sl_test_remove_tree(dir);
}

static void
test_delete_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autofree char *dir = NULL;
	g_autoptr(JsonNode) node = NULL;
	guint status = 0;

	setup(&fx);
	RUN_CLI(&fx, &r, "projects", "delete", "keep");
	assert_success(&r);
	g_assert_cmpstr(r.out, ==, "Deleted project “keep”; its log file is kept.\n");

	node = sl_daemon_fixture_request(&fx, "GET", "/api/projects/keep", NULL, &status);
	g_assert_cmpuint(status, ==, 404);
	dir = sl_daemon_fixture_path(&fx, "projects/keep");
	g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));

	RUN_CLI(&fx, &r, "projects", "delete", "keep");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: project not found\n");

	sl_daemon_fixture_clear(&fx);
}

/* ---- enable, disable, reload, runtime ----------------------------------------------- */

static void
test_enable_disable_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};

	setup(&fx);
	RUN_CLI(&fx, &r, "projects", "disable", "keep");
	if (route_missing(&r, "PATCH /api/projects/{id}/enabled")) {
		sl_daemon_fixture_clear(&fx);
		return;
	}
	assert_success(&r);
	g_assert_cmpstr(r.out, ==, "Disabled project “keep”; its instances were stopped.\n");
	{
		g_autoptr(JsonNode) node = NULL;
		JsonObject *project = get_project(&fx, "keep", &node);

		g_assert_false(json_object_get_boolean_member(project, "enabled"));
		g_assert_cmpstr(stdiolink_json_object_get_string(project, "status"), ==,
				"disabled");
	}

	RUN_CLI(&fx, &r, "projects", "enable", "keep");
	assert_success(&r);
	g_assert_true(g_str_has_prefix(r.out, "Enabled project “keep” ("));
	{
		g_autoptr(JsonNode) node = NULL;
		JsonObject *project = get_project(&fx, "keep", &node);

		g_assert_true(json_object_get_boolean_member(project, "enabled"));
	}

	RUN_CLI(&fx, &r, "projects", "enable", "nope");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: project not found\n");

	sl_daemon_fixture_clear(&fx);
}

static void
test_reload_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};

	setup(&fx);

	/* changed by hand on disk, picked up by reload */
	sl_daemon_fixture_write(&fx, "projects/talker/config.json",
				"{\"id\":\"talker\",\"name\":\"Edited by hand\","
				"\"serviceId\":\"svc\",\"enabled\":true,"
				"\"schedule\":{\"type\":\"manual\"}}");
	RUN_CLI(&fx, &r, "projects", "reload", "talker");
	if (route_missing(&r, "POST /api/projects/{id}/reload")) {
		sl_daemon_fixture_clear(&fx);
		return;
	}
	assert_success(&r);
	g_assert_cmpstr(r.out, ==, "Reloaded project “talker” from disk (stopped).\n");
	{
		g_autoptr(JsonNode) node = NULL;
		JsonObject *project = get_project(&fx, "talker", &node);

		g_assert_cmpstr(stdiolink_json_object_get_string(project, "name"), ==,
				"Edited by hand");
	}

	RUN_CLI(&fx, &r, "projects", "reload", "nope");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: project not found\n");

	sl_daemon_fixture_clear(&fx);
}

static void
test_runtime_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) answer = NULL;

	setup(&fx);
	RUN_CLI(&fx, &r, "projects", "runtime", "keep");
	if (route_missing(&r, "GET /api/projects/{id}/runtime")) {
		sl_daemon_fixture_clear(&fx);
		return;
	}
	assert_success(&r);
	g_assert_nonnull(strstr(r.out, "ID:                  keep\n"));
	g_assert_nonnull(strstr(r.out, "Schedule:            fixed_rate\n"));
	g_assert_nonnull(strstr(r.out, "Timer armed:         yes\n"));

	RUN_CLI(&fx, &r, "projects", "runtime");
	if (route_missing(&r, "GET /api/projects/runtime")) {
		sl_daemon_fixture_clear(&fx);
		return;
	}
	assert_success(&r);
	g_assert_true(g_str_has_prefix(r.out, "ID "));
	g_assert_nonnull(strstr(r.out, "\nkeep "));
	g_assert_nonnull(strstr(r.out, "\ntalker "));

	RUN_CLI(&fx, &r, "--json", "projects", "runtime", "keep", "talker");
	assert_success(&r);
	answer = stdiolink_json_parse(r.out, -1, NULL);
	g_assert_nonnull(answer);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     json_node_get_object(answer), "runtimes")),
			 ==, 2);

	RUN_CLI(&fx, &r, "projects", "runtime", "nope");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: project not found\n");
	RUN_CLI(&fx, &r, "projects", "runtime", "keep", "nope");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: project not found: nope\n");

	sl_daemon_fixture_clear(&fx);
}

/* ---- logs -------------------------------------------------------------------------------- */

static gboolean
log_has_cb(SlDaemonFixture *fx, gpointer data)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, "logs/talker.log");
	g_autofree char *text = NULL;
	guint *n = data;
	guint found = 0;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	for (const char *p = strstr(text, "| gamma"); p != NULL; p = strstr(p + 1, "| gamma"))
		found++;
	return found >= *n;
}

/* starts talker and waits for the n-th "gamma" in its log */
static void
talk(SlDaemonFixture *fx, guint n)
{
	g_auto(SlCliResult) r = {0};

	RUN_CLI(fx, &r, "projects", "start", "talker");
	assert_success(&r);
	g_assert_true(sl_daemon_fixture_wait(fx, log_has_cb, &n));
}

static void
test_logs_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_auto(GStrv) lines = NULL;

	setup(&fx);
	talk(&fx, 1);

	RUN_CLI(&fx, &r, "projects", "logs", "talker", "-n", "2");
	if (route_missing(&r, "GET /api/projects/{id}/logs")) {
		sl_daemon_fixture_clear(&fx);
		return;
	}
	assert_success(&r);
	lines = g_strsplit(r.out, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	g_assert_true(g_str_has_suffix(lines[0], " | beta"));
	g_assert_true(g_str_has_suffix(lines[1], " | gamma"));
	g_assert_cmpstr(lines[2], ==, "");

	/* instances share their project's log; the route takes a project id too */
	RUN_CLI(&fx, &r, "instances", "logs", "talker", "-n", "1");
	if (route_missing(&r, "GET /api/instances/{id}/logs")) {
		sl_daemon_fixture_clear(&fx);
		return;
	}
	assert_success(&r);
	g_assert_true(g_str_has_suffix(r.out, " | gamma\n"));
	g_assert_null(strstr(r.out, "beta"));

	RUN_CLI(&fx, &r, "projects", "logs", "nope");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: project not found\n");
	RUN_CLI(&fx, &r, "instances", "logs", "inst_00000000");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: instance not found\n");

	sl_daemon_fixture_clear(&fx);
}

/* a stdiolinkctl that keeps running, its output read line by line */

typedef struct {
	GSubprocess *proc;
	GDataInputStream *out;
	GDataInputStream *err;
} CliProcess;

static void
cli_process_clear(CliProcess *p)
{
	g_clear_object(&p->out);
	g_clear_object(&p->err);
	if (p->proc != NULL)
		g_subprocess_force_exit(p->proc);
	g_clear_object(&p->proc);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(CliProcess, cli_process_clear)

static void
cli_process_start(SlDaemonFixture *fx, CliProcess *p, const char *const *args)
{
	g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new(
	    G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
	g_autoptr(GPtrArray) argv = sl_cli_argv(fx, args);
	g_autoptr(GError) error = NULL;

	g_subprocess_launcher_setenv(launcher, "NO_COLOR", "1", TRUE);
	p->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata,
					       &error);
	g_assert_no_error(error);
	p->out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(p->proc));
	p->err = g_data_input_stream_new(g_subprocess_get_stderr_pipe(p->proc));
}

/* sends @signum (0: none) and returns the exit status */
static int
cli_process_finish(CliProcess *p, int signum)
{
	g_autoptr(GError) error = NULL;

	if (signum != 0)
		g_subprocess_send_signal(p->proc, signum);
	g_subprocess_wait(p->proc, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(p->proc));
	return g_subprocess_get_exit_status(p->proc);
}

static void
append_to_log(SlDaemonFixture *fx, const char *line)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, "logs/talker.log");
	FILE *file = fopen(path, "a");

	g_assert_nonnull(file);
	fprintf(file, "%s\n", line);
	g_assert_cmpint(fclose(file), ==, 0);
}

static void
assert_line_ends(CliProcess *p, const char *suffix)
{
	g_autofree char *line = sl_test_read_line(p->out);

	g_assert_nonnull(line);
	if (!g_str_has_suffix(line, suffix))
		g_error("“%s” does not end with “%s”", line, suffix);
}

static void
test_logs_follow_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_auto(CliProcess) p = {NULL};
	g_autofree char *rest = NULL;

	setup(&fx);
	talk(&fx, 1);
	RUN_CLI(&fx, &r, "projects", "logs", "talker", "-n", "1");
	if (route_missing(&r, "GET /api/projects/{id}/logs")) {
		sl_daemon_fixture_clear(&fx);
		return;
	}

	/* the last line, then what is written after it started */
	cli_process_start(&fx, &p, (const char *const[]){"projects", "logs", "talker", "-f",
							 "-n", "1", NULL});
	assert_line_ends(&p, " | gamma");

	append_to_log(&fx, "2030-01-01T00:00:00.000Z | written by hand");
	assert_line_ends(&p, " | written by hand");

	talk(&fx, 2);
	assert_line_ends(&p, " | alpha");
	assert_line_ends(&p, " | beta");
	assert_line_ends(&p, " | gamma");

	/* Ctrl+C: exit 0, nothing more printed */
	g_assert_cmpint(cli_process_finish(&p, SIGINT), ==, 0);
	rest = sl_test_read_line(p.out);
	g_assert_null(rest);

	sl_daemon_fixture_clear(&fx);
}

/* ---- events ------------------------------------------------------------------------------ */

/* waits for the "Watching…" hint; FALSE (test skipped) if the daemon has no stream route */
static gboolean
wait_watching(CliProcess *p)
{
	g_autofree char *hint = sl_test_read_line(p->err);

	g_assert_nonnull(hint);
	if (g_str_equal(hint, "stdiolinkctl: not found")) {
		g_test_skip("the daemon has no route for GET /api/events/stream yet");
		return FALSE;
	}
	g_assert_nonnull(strstr(hint, "Ctrl+C"));
	return TRUE;
}

/* the next line about talker (a scheduled run of keep may come between) */
static void
assert_event(CliProcess *p, const char *text, gboolean at_end)
{
	for (;;) {
		g_autofree char *line = sl_test_read_line(p->out);

		g_assert_nonnull(line);
		if (strstr(line, " talker ") == NULL)
			continue;
		if (at_end ? !g_str_has_suffix(line, text) : strstr(line, text) == NULL)
			g_error("“%s” does not have “%s”", line, text);
		return;
	}
}

static char *
start_talker(SlDaemonFixture *fx)
{
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) answer = NULL;

	RUN_CLI(fx, &r, "--json", "projects", "start", "talker");
	assert_success(&r);
	answer = stdiolink_json_parse(r.out, -1, NULL);
	g_assert_nonnull(answer);
	return g_strdup(stdiolink_json_object_get_string(json_node_get_object(answer),
							 "instanceId"));
}

static void
test_events_func(void)
{
	SlDaemonFixture fx;
	g_auto(CliProcess) p = {NULL};
	g_autofree char *instance = NULL;
	g_autofree char *started = NULL;
	g_autofree char *finished = NULL;
	g_autofree char *rest = NULL;

	setup(&fx);
	cli_process_start(&fx, &p, (const char *const[]){"events", "--type", "instance", NULL});
	if (!wait_watching(&p)) {
		sl_daemon_fixture_clear(&fx);
		return;
	}

	instance = start_talker(&fx);
	started = g_strdup_printf(" instance.started talker instanceId=%s pid=", instance);
	finished = g_strdup_printf(" instance.finished talker exitCode=0 instanceId=%s "
				   "status=normal",
				   instance);
	assert_event(&p, started, FALSE);
	assert_event(&p, finished, TRUE);

	g_assert_cmpint(cli_process_finish(&p, SIGINT), ==, 0);
	rest = sl_test_read_line(p.out);
	g_assert_null(rest);
	sl_daemon_fixture_clear(&fx);
}

static void
test_events_json_func(void)
{
	SlDaemonFixture fx;
	g_auto(CliProcess) p = {NULL};
	g_autofree char *instance = NULL;
	const char *expected[] = {"instance.started", "instance.finished"};

	setup(&fx);
	cli_process_start(&fx, &p, (const char *const[]){"--json", "events", "--project",
							 "talker", NULL});
	if (!wait_watching(&p)) {
		sl_daemon_fixture_clear(&fx);
		return;
	}

	/* another project's events are left out */
	{
		g_auto(SlCliResult) r = {0};

		RUN_CLI(&fx, &r, "projects", "start", "keep");
		assert_success(&r);
	}
	instance = start_talker(&fx);
	for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
		g_autofree char *line = sl_test_read_line(p.out);
		g_autoptr(JsonNode) node = NULL;
		JsonObject *data;

		g_assert_nonnull(line);
		node = stdiolink_json_parse(line, -1, NULL);
		g_assert_nonnull(node);
		g_assert_cmpstr(stdiolink_json_object_get_string(json_node_get_object(node),
								 "type"),
				==, expected[i]);
		data = stdiolink_json_object_get_object(json_node_get_object(node), "data");
		g_assert_cmpstr(stdiolink_json_object_get_string(data, "projectId"), ==, "talker");
		g_assert_cmpstr(stdiolink_json_object_get_string(data, "instanceId"), ==,
				instance);
	}

	g_assert_cmpint(cli_process_finish(&p, SIGINT), ==, 0);
	sl_daemon_fixture_clear(&fx);
}

/* the daemon goes away under a running `events`: exit 3 */
static void
test_events_daemon_gone_func(void)
{
	SlDaemonFixture fx;
	g_auto(CliProcess) p = {NULL};
	g_autofree char *err = NULL;

	setup(&fx);
	cli_process_start(&fx, &p, (const char *const[]){"events", NULL});
	if (!wait_watching(&p)) {
		sl_daemon_fixture_clear(&fx);
		return;
	}

	sl_daemon_fixture_stop(&fx);
	g_assert_cmpint(cli_process_finish(&p, 0), ==, 3);
	err = sl_test_read_line(p.err);
	g_assert_nonnull(err);
	g_assert_nonnull(strstr(err, "lost the connection to stdiolinkd at "));
	sl_daemon_fixture_clear(&fx);
}

/* ---- processes --------------------------------------------------------------------------- */

typedef struct {
	const char *instance;
	const char *child_file;
} RunningWait;

static gboolean
running_with_child_cb(SlDaemonFixture *fx, gpointer data)
{
	RunningWait *wait = data;
	g_autofree char *path = g_strdup_printf("/api/instances/%s", wait->instance);
	g_autoptr(JsonNode) node = NULL;
	guint status = 0;

	node = sl_daemon_fixture_request(fx, "GET", path, NULL, &status);
	if (status != 200 || g_strcmp0(stdiolink_json_object_get_string(
					   json_node_get_object(node), "status"),
				       "running") != 0)
		return FALSE;
	return g_file_test(wait->child_file, G_FILE_TEST_IS_REGULAR);
}

static void
test_processes_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) answer = NULL;
	g_autofree char *child_file = NULL;
	g_autofree char *params = NULL;
	g_autofree char *child_pid = NULL;
	g_autofree char *child_row = NULL;
	RunningWait wait;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_add_test_service(&fx, "svc", test_schema);
	child_file = sl_daemon_fixture_path(&fx, "child.pid");
	params = g_strdup_printf("{\"sleepMs\":60000,\"spawnChild\":\"%s\"}", child_file);
	sl_daemon_fixture_add_project(&fx, "sleeper", "svc", NULL, params);
	sl_daemon_fixture_start(&fx);

	RUN_CLI(&fx, &r, "--json", "projects", "start", "sleeper");
	assert_success(&r);
	answer = stdiolink_json_parse(r.out, -1, NULL);
	wait.instance = stdiolink_json_object_get_string(json_node_get_object(answer),
							 "instanceId");
	wait.child_file = child_file;
	g_assert_true(sl_daemon_fixture_wait(&fx, running_with_child_cb, &wait));
	child_pid = sl_test_read_file(child_file);
	g_strstrip(child_pid);

	RUN_CLI(&fx, &r, "instances", "tree", wait.instance);
	if (route_missing(&r, "GET /api/instances/{id}/process-tree")) {
		sl_daemon_fixture_clear(&fx);
		return;
	}
	assert_success(&r);
	g_assert_true(g_str_has_prefix(r.out, "PID "));
	g_assert_nonnull(strstr(r.out, " CPU "));
	g_assert_nonnull(strstr(r.out, " RSS "));
	child_row = g_strdup_printf("\n%s ", child_pid);
	g_assert_nonnull(strstr(r.out, child_row));
	g_assert_nonnull(strstr(r.out, "└─ "));
	g_assert_nonnull(strstr(r.out, "\n2 processes, "));

	RUN_CLI(&fx, &r, "instances", "resources", wait.instance);
	if (route_missing(&r, "GET /api/instances/{id}/resources")) {
		sl_daemon_fixture_clear(&fx);
		return;
	}
	assert_success(&r);
	g_assert_true(g_str_has_prefix(r.out, "PID "));
	g_assert_nonnull(strstr(r.out, " PPID "));
	g_assert_nonnull(strstr(r.out, child_row));

	RUN_CLI(&fx, &r, "instances", "tree", "inst_00000000");
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.err, ==, "stdiolinkctl: instance not found\n");

	RUN_CLI(&fx, &r, "projects", "stop", "sleeper");
	assert_success(&r);
	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/cli-daemon3/create-flags", test_create_flags_func);
	g_test_add_func("/cli-daemon3/create-file", test_create_file_func);
	g_test_add_func("/cli-daemon3/update-keeps", test_update_keeps_func);
	g_test_add_func("/cli-daemon3/delete", test_delete_func);
	g_test_add_func("/cli-daemon3/enable-disable", test_enable_disable_func);
	g_test_add_func("/cli-daemon3/reload", test_reload_func);
	g_test_add_func("/cli-daemon3/runtime", test_runtime_func);
	g_test_add_func("/cli-daemon3/logs", test_logs_func);
	g_test_add_func("/cli-daemon3/logs-follow", test_logs_follow_func);
	g_test_add_func("/cli-daemon3/events", test_events_func);
	g_test_add_func("/cli-daemon3/events-json", test_events_json_func);
	g_test_add_func("/cli-daemon3/events-daemon-gone", test_events_daemon_gone_func);
	g_test_add_func("/cli-daemon3/processes", test_processes_func);
	return g_test_run();
}

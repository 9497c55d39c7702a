/* posix_openpt() and friends */
#define _GNU_SOURCE

#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl-daemon-fixture.h"
#include "sl-test-cli.h"
#include "sl-test-utils.h"

/*
 * stdiolinkctl's scans and jobs against a real stdiolinkd: `drivers scan` and
 * `services scan` submit a job and follow it, `jobs list|show|wait|cancel`, with their
 * output and exit codes. The drivers are small shell scripts that write their metadata
 * after sleeping as long as the file `delay` in the data root says, so a test makes the
 * scans slow once the daemon's start-up scan is over.
 */

#define N_DRIVERS 3

static char *
compact(JsonNode *node)
{
	return stdiolink_json_to_string(node, STDIOLINK_JSON_COMPACT);
}

/* a driver that exports `{"info":{"id":"test.<name>"}}` after `delay` seconds */
static void
add_driver(SlDaemonFixture *fx, const char *name)
{
	g_autofree char *delay = sl_daemon_fixture_path(fx, "delay");
	g_autofree char *rel = g_strdup_printf("drivers/%s/stdio.drv.%s", name, name);
	g_autofree char *script = g_strdup_printf(
	    "#!/bin/sh\n"
	    "out=\n"
	    "for arg in \"$@\"; do\n"
	    "\tcase \"$arg\" in --export-meta=*) out=${arg#--export-meta=} ;; esac\n"
	    "done\n"
	    "[ -n \"$out\" ] || exit 2\n"
	    "sleep \"$(cat '%s' 2>/dev/null || echo 0)\"\n"
	    "printf '%%s\\n' '{\"info\":{\"id\":\"test.%s\",\"name\":\"%s\",\"version\":\"1.0\"}}'"
	    " >\"$out\"\n",
	    delay, name, name);

	sl_test_write_file(fx->root, rel, script, 0755);
}

/* a driver that cannot export: its folder is quarantined as <name>.failed */
static void
add_broken_driver(SlDaemonFixture *fx, const char *name)
{
	g_autofree char *rel = g_strdup_printf("drivers/%s/stdio.drv.%s", name, name);

	sl_test_write_file(fx->root, rel, "#!/bin/sh\necho broken >&2\nexit 1\n", 0755);
}

/* every export from now on sleeps @seconds */
static void
set_delay(SlDaemonFixture *fx, const char *seconds)
{
	sl_daemon_fixture_write(fx, "delay", seconds);
}

static const char *test_schema = "{\"port\":{\"type\":\"int\",\"default\":8080}}";

static void
setup(SlDaemonFixture *fx)
{
	g_autofree char *name = NULL;

	sl_daemon_fixture_init(fx);
	for (guint i = 0; i < N_DRIVERS; i++) {
		g_free(name);
		name = g_strdup_printf("d%u", i);
		add_driver(fx, name);
	}
	sl_daemon_fixture_add_test_service(fx, "svc", test_schema);
	sl_daemon_fixture_add_project(fx, "worker", "svc", NULL, "{}");
	sl_daemon_fixture_start(fx);
}

/* the job the daemon answers for @id, as GET /api/jobs/<id> */
static JsonNode *
api_job(SlDaemonFixture *fx, const char *id)
{
	g_autofree char *path = g_strdup_printf("/api/jobs/%s", id);
	guint status = 0;
	JsonNode *node = sl_daemon_fixture_request(fx, "GET", path, NULL, &status);

	g_assert_cmpuint(status, ==, 200);
	return node;
}

/* the newest job of @kind */
static char *
newest_job_id(SlDaemonFixture *fx, const char *kind)
{
	g_autofree char *path = g_strdup_printf("/api/jobs?kind=%s", kind);
	guint status = 0;
	g_autoptr(JsonNode) node = sl_daemon_fixture_request(fx, "GET", path, NULL, &status);
	JsonArray *jobs;
	JsonObject *last;

	g_assert_cmpuint(status, ==, 200);
	jobs = json_object_get_array_member(json_node_get_object(node), "jobs");
	g_assert_cmpuint(json_array_get_length(jobs), >, 0);
	last = json_array_get_object_element(jobs, json_array_get_length(jobs) - 1);
	return g_strdup(json_object_get_string_member(last, "id"));
}

/* `--no-wait` prints the job id and a line break, nothing else */
static char *
submit_no_wait(SlDaemonFixture *fx, const char *noun, const char *option)
{
	g_auto(SlCliResult) r = {0};

	sl_cli_run(fx, &r, noun, "scan", "--no-wait", option, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpuint(strlen(r.out), ==, 17);
	g_assert_cmpint(r.out[16], ==, '\n');
	return g_strndup(r.out, 16);
}

/* `drivers scan` follows the job and prints its counters; --json is the API's result */
static void
test_drivers_scan_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) cli = NULL;
	g_autoptr(JsonNode) job = NULL;
	g_autofree char *id = NULL;
	g_autofree char *cli_text = NULL;
	g_autofree char *api_text = NULL;
	g_autofree char *failed_dir = NULL;
	JsonObject *result;

	setup(&fx);
	add_broken_driver(&fx, "broken");

	/* human: aligned labels, the counters, the folder that failed; no bar off a TTY */
	sl_cli_run(&fx, &r, "drivers", "scan", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "Folders scanned:    4\n"));
	g_assert_nonnull(strstr(r.out, "Drivers loaded:     3\n"));
	g_assert_nonnull(strstr(r.out, "Newly failed:       1\n"));
	g_assert_nonnull(strstr(r.out, "Skipped (.failed):  0\n"));
	g_assert_nonnull(strstr(r.out, "Failures:"));
	g_assert_nonnull(strstr(r.out, "broken"));
	g_assert_cmpstr(r.err, ==, "");
	failed_dir = sl_daemon_fixture_path(&fx, "drivers/broken.failed");
	g_assert_true(g_file_test(failed_dir, G_FILE_TEST_IS_DIR));

	/* --json: exactly the job's result, as the API has it */
	sl_cli_run(&fx, &r, "--json", "drivers", "scan", "--no-refresh", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_cmpstr(r.err, ==, "");
	cli = sl_cli_parse_json(&r);
	id = newest_job_id(&fx, "drivers.scan");
	job = api_job(&fx, id);
	api_text = compact(json_object_get_member(json_node_get_object(job), "result"));
	cli_text = compact(cli);
	g_assert_cmpstr(cli_text, ==, api_text);
	result = json_node_get_object(cli);
	g_assert_cmpuint(json_object_get_size(result), ==, 4);
	g_assert_cmpint(json_object_get_int_member(result, "scanned"), ==, 3);
	g_assert_cmpint(json_object_get_int_member(result, "updated"), ==, 3);
	g_assert_cmpint(json_object_get_int_member(result, "newlyFailed"), ==, 0);
	g_assert_cmpint(json_object_get_int_member(result, "skippedFailed"), ==, 1);
	g_assert_false(json_object_get_boolean_member(
	    json_object_get_object_member(json_node_get_object(job), "params"), "refreshMeta"));

	sl_daemon_fixture_clear(&fx);
}

/* --no-wait prints an id that `jobs show` and `jobs list` then find */
static void
test_no_wait_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) shown = NULL;
	g_autoptr(JsonNode) listed = NULL;
	g_autoptr(JsonNode) accepted = NULL;
	g_autofree char *id = NULL;
	JsonArray *jobs;

	setup(&fx);
	set_delay(&fx, "2");
	id = submit_no_wait(&fx, "drivers", NULL);

	/* the same request while it runs gives the same job; --json prints the 202 body */
	sl_cli_run(&fx, &r, "--json", "drivers", "scan", "--no-wait", NULL);
	g_assert_cmpint(r.status, ==, 0);
	accepted = sl_cli_parse_json(&r);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(accepted), "jobId"),
			==, id);
	g_assert_nonnull(json_object_get_string_member(json_node_get_object(accepted),
						       "status"));

	sl_cli_run(&fx, &r, "jobs", "show", id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, id));
	g_assert_nonnull(strstr(r.out, "drivers.scan"));
	g_assert_nonnull(strstr(r.out, "refreshMeta=true"));

	sl_cli_run(&fx, &r, "--json", "jobs", "show", id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	shown = sl_cli_parse_json(&r);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(shown), "id"), ==, id);

	/* the table names it; another kind does not */
	sl_cli_run(&fx, &r, "jobs", "list", "--kind", "drivers.scan", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_true(g_str_has_prefix(r.out, "ID "));
	g_assert_nonnull(strstr(r.out, "PROGRESS"));
	g_assert_nonnull(strstr(r.out, id));
	sl_cli_run(&fx, &r, "jobs", "list", "--kind", "services.scan", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_null(strstr(r.out, id));
	g_assert_nonnull(strstr(r.out, "services.scan"));

	/* --json: the API's list object */
	sl_cli_run(&fx, &r, "--json", "jobs", "list", "--kind", "drivers.scan", NULL);
	g_assert_cmpint(r.status, ==, 0);
	listed = sl_cli_parse_json(&r);
	jobs = json_object_get_array_member(json_node_get_object(listed), "jobs");
	g_assert_cmpuint(json_array_get_length(jobs), ==, 2); /* start-up scan, ours */
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(jobs, 1),
						      "id"), ==, id);

	sl_cli_run(&fx, &r, "jobs", "cancel", id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	sl_daemon_fixture_wait_for_jobs(&fx);
	sl_daemon_fixture_clear(&fx);
}

/* `jobs wait` on a slow scan follows it to its end and shows it */
static void
test_wait_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) job = NULL;
	g_autofree char *id = NULL;
	g_autofree char *done = g_strdup_printf("%u/%u", N_DRIVERS, N_DRIVERS);

	setup(&fx);
	set_delay(&fx, "1");
	id = submit_no_wait(&fx, "drivers", NULL);

	sl_cli_run(&fx, &r, "jobs", "wait", id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "succeeded"));
	g_assert_nonnull(strstr(r.out, done));
	g_assert_nonnull(strstr(r.out, "Result:"));
	g_assert_nonnull(strstr(r.out, "Drivers loaded:"));

	/* once over, --json prints the job object */
	sl_cli_run(&fx, &r, "--json", "jobs", "wait", id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	job = sl_cli_parse_json(&r);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(job), "status"), ==,
			"succeeded");

	sl_daemon_fixture_clear(&fx);
}

/* a canceled job: `jobs wait` exits 4, a second cancel is refused */
static void
test_cancel_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) job = NULL;
	g_autofree char *id = NULL;

	setup(&fx);
	set_delay(&fx, "2");
	id = submit_no_wait(&fx, "drivers", NULL);

	sl_cli_run(&fx, &r, "jobs", "cancel", id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, id));

	sl_cli_run(&fx, &r, "jobs", "wait", id, NULL);
	g_assert_cmpint(r.status, ==, 4);
	g_assert_nonnull(strstr(r.out, "canceled"));
	g_assert_nonnull(strstr(r.err, "was canceled"));

	/* --json: still the job object, and still 4 */
	sl_cli_run(&fx, &r, "--json", "jobs", "wait", id, NULL);
	g_assert_cmpint(r.status, ==, 4);
	job = sl_cli_parse_json(&r);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(job), "status"), ==,
			"canceled");

	sl_cli_run(&fx, &r, "jobs", "cancel", id, NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "already finished"));

	sl_daemon_fixture_clear(&fx);
}

/* the CLI's scan job, once it has submitted it: a drivers.scan newer than @before */
static char *
wait_for_new_job(SlDaemonFixture *fx, const char *before)
{
	for (guint i = 0; i < 1000; i++) {
		g_autofree char *newest = newest_job_id(fx, "drivers.scan");

		if (!g_str_equal(newest, before))
			return g_steal_pointer(&newest);
		g_usleep(20 * 1000);
	}
	g_assert_not_reached();
}

/* a scan canceled while `drivers scan` follows it: exit 4, with --json the job object */
static void
test_scan_canceled_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(GSubprocess) cli = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) answer = NULL;
	g_autoptr(JsonNode) job = NULL;
	g_autofree char *startup_id = NULL;
	g_autofree char *id = NULL;
	g_autofree char *path = NULL;
	guint status = 0;

	setup(&fx);
	set_delay(&fx, "2");
	startup_id = newest_job_id(&fx, "drivers.scan");
	cli = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, g_getenv("STDIOLINKCTL"),
			       "--url", fx.base_url, "--json", "drivers", "scan", NULL);
	g_assert_no_error(error);

	id = wait_for_new_job(&fx, startup_id);
	path = g_strdup_printf("/api/jobs/%s/cancel", id);
	answer = sl_daemon_fixture_request(&fx, "POST", path, NULL, &status);
	g_assert_cmpuint(status, ==, 202);

	g_subprocess_communicate_utf8(cli, NULL, NULL, &r.out, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(cli));
	g_assert_cmpint(g_subprocess_get_exit_status(cli), ==, 4);
	job = sl_cli_parse_json(&r);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(job), "id"), ==, id);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(job), "status"), ==,
			"canceled");

	sl_daemon_fixture_clear(&fx);
}

/* `services scan --json` prints the counters of the spec */
static void
test_services_scan_func(void)
{
	const char *counters[] = {
	    "scannedDirs", "loadedServices", "failedServices", "added", "removed", "updated",
	    "unchanged", "revalidatedProjects", "becameValid", "becameInvalid", "remainedInvalid",
	};
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) result = NULL;
	JsonObject *object;

	setup(&fx);
	sl_cli_run(&fx, &r, "--json", "services", "scan", "--stop-invalid", NULL);
	g_assert_cmpint(r.status, ==, 0);
	result = sl_cli_parse_json(&r);
	object = json_node_get_object(result);
	for (guint i = 0; i < G_N_ELEMENTS(counters); i++) {
		g_assert_true(json_object_has_member(object, counters[i]));
		g_assert_true(stdiolink_json_node_is_number(
		    json_object_get_member(object, counters[i])));
	}
	g_assert_cmpint(json_object_get_int_member(object, "loadedServices"), ==, 1);
	g_assert_cmpint(json_object_get_int_member(object, "unchanged"), ==, 1);
	g_assert_true(json_object_get_boolean_member(object, "schedulingRestarted"));
	g_assert_nonnull(json_object_get_array_member(object, "invalidProjects"));

	/* the options reach the job's parameters */
	sl_cli_run(&fx, &r, "services", "scan", "--no-revalidate", "--no-restart-scheduling",
		   NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "Services loaded:"));
	g_assert_nonnull(strstr(r.out, "Scheduling restarted:  no\n"));

	sl_cli_run(&fx, &r, "jobs", "list", "--kind", "services.scan", NULL);
	g_assert_cmpint(r.status, ==, 0);
	g_assert_nonnull(strstr(r.out, "succeeded"));

	sl_daemon_fixture_clear(&fx);
}

/* another scan with other options while one runs: refused, the running job named */
static void
test_conflict_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};
	g_autoptr(JsonNode) body = NULL;
	g_autofree char *id = NULL;
	JsonObject *object;

	setup(&fx);
	set_delay(&fx, "2");
	id = submit_no_wait(&fx, "drivers", NULL);

	sl_cli_run(&fx, &r, "drivers", "scan", "--no-refresh", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_cmpstr(r.out, ==, "");
	g_assert_nonnull(strstr(r.err, id));
	g_assert_nonnull(strstr(r.err, "jobs wait"));

	/* --json: the daemon's error body */
	sl_cli_run(&fx, &r, "--json", "drivers", "scan", "--no-refresh", "--no-wait", NULL);
	g_assert_cmpint(r.status, ==, 1);
	body = sl_cli_parse_json(&r);
	object = json_node_get_object(body);
	g_assert_cmpstr(json_object_get_string_member(object, "code"), ==, "job_conflict");
	g_assert_cmpstr(json_object_get_string_member(object, "jobId"), ==, id);

	sl_cli_run(&fx, &r, "jobs", "cancel", id, NULL);
	g_assert_cmpint(r.status, ==, 0);
	sl_daemon_fixture_wait_for_jobs(&fx);
	sl_daemon_fixture_clear(&fx);
}

/* refusals exit 1, usage errors 2, a daemon that is gone 3 */
static void
test_errors_func(void)
{
	SlDaemonFixture fx;
	g_auto(SlCliResult) r = {0};

	setup(&fx);

	sl_cli_run(&fx, &r, "jobs", "show", "0123456789abcdef", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "job not found"));
	sl_cli_run(&fx, &r, "jobs", "wait", "0123456789abcdef", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "job not found"));
	sl_cli_run(&fx, &r, "jobs", "cancel", "0123456789abcdef", NULL);
	g_assert_cmpint(r.status, ==, 1);
	sl_cli_run(&fx, &r, "jobs", "list", "--status", "sleeping", NULL);
	g_assert_cmpint(r.status, ==, 1);
	g_assert_nonnull(strstr(r.err, "unknown job status: sleeping"));

	sl_cli_run(&fx, &r, "jobs", "show", NULL);
	g_assert_cmpint(r.status, ==, 2);
	sl_cli_run(&fx, &r, "jobs", "frobnicate", NULL);
	g_assert_cmpint(r.status, ==, 2);
	sl_cli_run(&fx, &r, "drivers", "scan", "--refresh", NULL);
	g_assert_cmpint(r.status, ==, 2);
	sl_cli_run(&fx, &r, "services", "scan", "extra", NULL);
	g_assert_cmpint(r.status, ==, 2);

	sl_daemon_fixture_stop(&fx);
	sl_cli_run(&fx, &r, "drivers", "scan", NULL);
	g_assert_cmpint(r.status, ==, 3);
	g_assert_cmpstr(r.out, ==, "");
	sl_cli_run(&fx, &r, "--json", "jobs", "list", NULL);
	g_assert_cmpint(r.status, ==, 3);
	g_assert_cmpstr(r.out, ==, "");

	sl_daemon_fixture_clear(&fx);
}

/* reads what the CLI wrote to the terminal; the slave side is closed by then */
static char *
read_terminal(int master)
{
	g_autoptr(GString) text = g_string_new(NULL);
	char buf[4096];
	ssize_t n;

	while ((n = read(master, buf, sizeof(buf))) > 0)
		g_string_append_len(text, buf, n);
	return g_strdup(text->str);
}

/* on a terminal a bar is drawn on stderr while the job runs, and wiped at the end */
static void
test_progress_bar_func(void)
{
	SlDaemonFixture fx;
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autoptr(GSubprocess) cli = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *out = NULL;
	g_autofree char *screen = NULL;
	g_autofree char *counter = g_strdup_printf("] %u/%u", N_DRIVERS, N_DRIVERS);
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	int tty;

	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
		g_test_skip("no pseudo-terminal available");
		if (master >= 0)
			close(master);
		return;
	}

	setup(&fx);
	set_delay(&fx, "1");
	tty = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	g_assert_cmpint(tty, >=, 0);
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	g_subprocess_launcher_take_stderr_fd(launcher, tty);
	g_subprocess_launcher_setenv(launcher, "NO_COLOR", "1", TRUE);
	g_subprocess_launcher_setenv(launcher, "TERM", "xterm", TRUE);
	cli = g_subprocess_launcher_spawn(launcher, &error, g_getenv("STDIOLINKCTL"), "--url",
					  fx.base_url, "drivers", "scan", NULL);
	g_assert_no_error(error);
	g_clear_object(&launcher); /* closes our copy of the terminal's slave side */

	g_subprocess_communicate_utf8(cli, NULL, NULL, &out, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(cli));
	g_assert_cmpint(g_subprocess_get_exit_status(cli), ==, 0);
	screen = read_terminal(master);
	close(master);

	/* the bar, redrawn in place, full at the end, then overwritten with blanks */
	g_assert_nonnull(strstr(screen, "\r["));
	g_assert_nonnull(strstr(screen, counter));
	g_assert_null(strstr(screen, "\033"));
	g_assert_true(g_str_has_suffix(screen, " \r"));
	g_assert_null(strchr(screen, '\n'));

	/* stdout has the result only */
	g_assert_null(strchr(out, '\r'));
	g_assert_nonnull(strstr(out, "Drivers loaded:"));

	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
	g_test_add_func("/cli-jobs/drivers-scan", test_drivers_scan_func);
	g_test_add_func("/cli-jobs/no-wait", test_no_wait_func);
	g_test_add_func("/cli-jobs/wait", test_wait_func);
	g_test_add_func("/cli-jobs/cancel", test_cancel_func);
	g_test_add_func("/cli-jobs/scan-canceled", test_scan_canceled_func);
	g_test_add_func("/cli-jobs/services-scan", test_services_scan_func);
	g_test_add_func("/cli-jobs/conflict", test_conflict_func);
	g_test_add_func("/cli-jobs/errors", test_errors_func);
	g_test_add_func("/cli-jobs/progress-bar", test_progress_bar_func);
	return g_test_run();
}

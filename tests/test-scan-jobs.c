#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sl-daemon-fixture.h"
#include "sl-test-utils.h"

/*
 * The scans as jobs, through the daemon (DESIGN.md, Jobs): the held synchronous answer,
 * 202 with a job, deduplication and conflicts, cancellation, progress events, start-up
 * scans, and the service scan's counters. Drivers are sl-test-export-driver, told what to
 * do by a `behaviour` file in their folder.
 */

#define SCHEMA_PORT "{\"port\": {\"type\": \"int\", \"default\": 80}}"
#define SCHEMA_NEEDS_HOST "{\"host\": {\"type\": \"string\", \"required\": true}}"

static const char *
export_driver_path(void)
{
	const char *path = g_getenv("SL_TEST_EXPORT_DRIVER");

	g_assert_nonnull(path);
	return path;
}

static void
add_driver(SlDaemonFixture *fx, const char *name, const char *behaviour)
{
	g_autofree char *dir = g_build_filename(fx->root, "drivers", name, NULL);
	g_autofree char *exe_name = g_strconcat("stdio.drv.", name, NULL);
	g_autofree char *exe = g_build_filename(dir, exe_name, NULL);

	g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
	g_assert_cmpint(symlink(export_driver_path(), exe), ==, 0);
	sl_test_write_file(dir, "behaviour", behaviour, 0644);
}

static void
set_behaviour(SlDaemonFixture *fx, const char *name, const char *behaviour)
{
	g_autofree char *dir = g_build_filename(fx->root, "drivers", name, NULL);

	sl_test_write_file(dir, "behaviour", behaviour, 0644);
}

static gboolean
driver_file_exists(SlDaemonFixture *fx, const char *name, const char *file)
{
	g_autofree char *path = g_build_filename(fx->root, "drivers", name, file, NULL);

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

static JsonNode *
request_ok(SlDaemonFixture *fx, const char *method, const char *path, const char *body,
	   guint expected)
{
	guint status = 0;
	JsonNode *node = sl_daemon_fixture_request(fx, method, path, body, &status);

	g_assert_cmpuint(status, ==, expected);
	return node;
}

/* POST with `Prefer: respond-async`; returns the job id of the 202 */
static char *
submit_async(SlDaemonFixture *fx, const char *path, const char *body)
{
	g_autofree char *url = g_strconcat(fx->base_url, path, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("POST", url);
	g_autoptr(JsonNode) node = NULL;
	g_autofree char *location = NULL;
	JsonObject *reply;
	guint status = 0;

	soup_message_headers_replace(soup_message_get_request_headers(msg), "Prefer",
				     "wait=10, respond-async");
	node = sl_daemon_fixture_request_full(fx, msg, body, &status);
	g_assert_cmpuint(status, ==, 202);
	reply = json_node_get_object(node);
	location = g_strconcat("/api/jobs/", json_object_get_string_member(reply, "jobId"), NULL);
	g_assert_cmpstr(soup_message_headers_get_one(soup_message_get_response_headers(msg),
						     "Location"),
			==, location);
	return g_strdup(json_object_get_string_member(reply, "jobId"));
}

static JsonNode *
get_job(SlDaemonFixture *fx, const char *id)
{
	g_autofree char *path = g_strconcat("/api/jobs/", id, NULL);

	return request_ok(fx, "GET", path, NULL, 200);
}

static const char *
member_string(JsonNode *node, const char *member)
{
	return json_object_get_string_member(json_node_get_object(node), member);
}

static gboolean
job_has_ended(SlDaemonFixture *fx, gpointer id)
{
	g_autoptr(JsonNode) job = get_job(fx, id);
	const char *status = member_string(job, "status");

	return !g_str_equal(status, "queued") && !g_str_equal(status, "running");
}

static JsonNode *
wait_job(SlDaemonFixture *fx, const char *id)
{
	g_assert_true(sl_daemon_fixture_wait(fx, job_has_ended, (gpointer)id));
	return get_job(fx, id);
}

static gint64
result_int(JsonNode *result, const char *member)
{
	return json_object_get_int_member(json_node_get_object(result), member);
}

static guint
count_drivers(SlDaemonFixture *fx)
{
	g_autoptr(JsonNode) node = request_ok(fx, "GET", "/api/drivers", NULL, 200);

	return json_array_get_length(
	    json_object_get_array_member(json_node_get_object(node), "drivers"));
}

/* the id of the one job of @kind in @status, else NULL */
static char *
job_id_in(SlDaemonFixture *fx, const char *kind, const char *status)
{
	g_autofree char *path = g_strdup_printf("/api/jobs?kind=%s&status=%s", kind, status);
	g_autoptr(JsonNode) node = request_ok(fx, "GET", path, NULL, 200);
	JsonArray *jobs = json_object_get_array_member(json_node_get_object(node), "jobs");

	if (json_array_get_length(jobs) != 1)
		return NULL;
	return g_strdup(json_object_get_string_member(json_array_get_object_element(jobs, 0),
						      "id"));
}

/* the id of the queued or running job of @kind, read in one request */
static char *
active_job_id(SlDaemonFixture *fx, const char *kind)
{
	g_autofree char *path = g_strdup_printf("/api/jobs?kind=%s", kind);
	g_autoptr(JsonNode) node = request_ok(fx, "GET", path, NULL, 200);
	JsonArray *jobs = json_object_get_array_member(json_node_get_object(node), "jobs");

	for (guint i = 0; i < json_array_get_length(jobs); i++) {
		JsonObject *job = json_array_get_object_element(jobs, i);
		const char *status = json_object_get_string_member(job, "status");

		if (g_str_equal(status, "queued") || g_str_equal(status, "running"))
			return g_strdup(json_object_get_string_member(job, "id"));
	}
	return NULL;
}

static gboolean
has_running_job(SlDaemonFixture *fx, gpointer kind)
{
	g_autofree char *id = job_id_in(fx, kind, "running");

	return id != NULL;
}

/* ---- start-up ------------------------------------------------------------------------ */

static void
test_startup_scans_are_jobs(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) node = NULL;
	JsonArray *jobs;

	sl_daemon_fixture_init(&fx);
	add_driver(&fx, "alpha", "ok demo.alpha");
	sl_daemon_fixture_start(&fx);

	node = request_ok(&fx, "GET", "/api/jobs", NULL, 200);
	jobs = json_object_get_array_member(json_node_get_object(node), "jobs");
	g_assert_cmpuint(json_array_get_length(jobs), ==, 2);
	for (guint i = 0; i < 2; i++) {
		JsonObject *job = json_array_get_object_element(jobs, i);

		g_assert_cmpstr(json_object_get_string_member(job, "status"), ==, "succeeded");
		g_assert_true(json_object_has_member(job, "finishedAt"));
	}
	g_assert_cmpuint(count_drivers(&fx), ==, 1);

	/* the kind filter */
	g_clear_pointer(&node, json_node_unref);
	node = request_ok(&fx, "GET", "/api/jobs?kind=drivers.scan", NULL, 200);
	jobs = json_object_get_array_member(json_node_get_object(node), "jobs");
	g_assert_cmpuint(json_array_get_length(jobs), ==, 1);
	g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(jobs, 0),
						      "kind"),
			==, "drivers.scan");
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

static void
test_metrics_count_jobs(void)
{
	SlDaemonFixture fx;
	g_autofree char *url = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);

	url = g_strconcat(fx.base_url, "/metrics", NULL);
	msg = soup_message_new("GET", url);
	reply = soup_session_send_and_read(fx.session, msg, NULL, &error);
	g_assert_no_error(error);
	text = g_strndup(g_bytes_get_data(reply, NULL), g_bytes_get_size(reply));
	g_assert_nonnull(strstr(text, "# TYPE stdiolinkd_jobs gauge\n"));
	g_assert_nonnull(strstr(text, "stdiolinkd_jobs{state=\"succeeded\"} 2\n"));
	g_assert_nonnull(strstr(text, "stdiolinkd_jobs{state=\"running\"} 0\n"));
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

/* a slow export at start-up delays neither the first answer nor the rest of the API */
static void
test_startup_listens_before_slow_drivers(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) status = NULL;
	g_autofree char *job_id = NULL;
	g_autoptr(JsonNode) job = NULL;

	sl_daemon_fixture_init(&fx);
	add_driver(&fx, "slow", "ok demo.slow 2500");
	fx.no_wait_for_jobs = TRUE;
	sl_daemon_fixture_start(&fx);

	status = request_ok(&fx, "GET", "/api/server/status", NULL, 200);
	job_id = active_job_id(&fx, "drivers.scan");
	g_assert_nonnull(job_id);

	/* answered while the export runs; the catalogue waits for the job */
	g_assert_cmpuint(count_drivers(&fx), ==, 0);
	job = wait_job(&fx, job_id);
	g_assert_cmpstr(member_string(job, "status"), ==, "succeeded");
	g_assert_cmpuint(count_drivers(&fx), ==, 1);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

/*
 * Changes wait for the start-up services scan. A FIFO as a manifest holds that scan in its
 * worker thread until the test writes to it, so the window is certain, not a race.
 */
static void
test_changes_refused_while_loading(void)
{
	SlDaemonFixture fx;
	g_autofree char *fifo = NULL;
	g_autofree char *url = NULL;
	g_autoptr(SoupMessage) msg = NULL;
	g_autoptr(JsonNode) refused = NULL;
	g_autoptr(JsonNode) services = NULL;
	g_autoptr(JsonNode) created = NULL;
	g_autoptr(JsonNode) not_cancelled = NULL;
	g_autofree char *startup_id = NULL;
	g_autofree char *cancel_path = NULL;
	const char *manifest = "{\"manifestVersion\":\"1\",\"id\":\"late\",\"name\":\"Late\","
			       "\"version\":\"1.0\",\"runtime\":\"exec\",\"entry\":\"run\"}";
	const char *project = "{\"id\":\"p\",\"name\":\"P\",\"serviceId\":\"late\"}";
	guint status = 0;
	int fd;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_add_test_service(&fx, "late", SCHEMA_PORT);
	fifo = g_build_filename(fx.root, "services", "late", "manifest.json", NULL);
	g_assert_cmpint(g_unlink(fifo), ==, 0);
	g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
	fx.no_wait_for_jobs = TRUE;
	sl_daemon_fixture_start(&fx);

	url = g_strconcat(fx.base_url, "/api/projects", NULL);
	msg = soup_message_new("POST", url);
	refused = sl_daemon_fixture_request_full(&fx, msg, project, &status);
	g_assert_cmpuint(status, ==, 503);
	sl_daemon_fixture_assert_error(refused, "unavailable",
				       "the daemon is still loading its data root");
	g_assert_cmpstr(soup_message_headers_get_one(soup_message_get_response_headers(msg),
						     "Retry-After"),
			==, "1");
	services = request_ok(&fx, "GET", "/api/services", NULL, 200);

	/* the start-up load cannot be cancelled by a client */
	startup_id = active_job_id(&fx, "services.scan");
	cancel_path = g_strdup_printf("/api/jobs/%s/cancel", startup_id);
	not_cancelled = sl_daemon_fixture_request(&fx, "POST", cancel_path, NULL, &status);
	g_assert_cmpuint(status, ==, 409);
	sl_daemon_fixture_assert_error(not_cancelled, "conflict", "job cannot be canceled");

	/* opening blocks until the scan opens the FIFO to read it; then it finishes */
	fd = open(fifo, O_WRONLY | O_CLOEXEC);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(write(fd, manifest, strlen(manifest)), ==, (gssize)strlen(manifest));
	g_assert_cmpint(close(fd), ==, 0);
	sl_daemon_fixture_wait_for_jobs(&fx);
	created = request_ok(&fx, "POST", "/api/projects", project, 201);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

static gboolean
pid_file_written(SlDaemonFixture *fx, gpointer name)
{
	return driver_file_exists(fx, name, "child-pid");
}

static GPid
read_pid(SlDaemonFixture *fx, const char *name, const char *file)
{
	g_autofree char *path = g_build_filename(fx->root, "drivers", name, file, NULL);
	g_autofree char *text = sl_test_read_file(path);

	return (GPid)g_ascii_strtoll(text, NULL, 10);
}

/* SIGTERM while the start-up driver scan waits on an export: exit 0, no export left */
static void
test_sigterm_during_startup_scan(void)
{
	SlDaemonFixture fx;
	GPid export_pid, child_pid;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_write(&fx, "config.json", "{\"scanTimeoutMs\": 60000}");
	add_driver(&fx, "stuck", "hang");
	fx.no_wait_for_jobs = TRUE;
	sl_daemon_fixture_start(&fx);
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_file_written, "stuck"));
	export_pid = read_pid(&fx, "stuck", "pid");
	child_pid = read_pid(&fx, "stuck", "child-pid");

	sl_daemon_fixture_stop(&fx);
	g_assert_false(sl_daemon_fixture_pid_alive(export_pid));
	g_assert_false(sl_daemon_fixture_pid_alive(child_pid));

	/* cancelled, so not quarantined either */
	g_assert_true(driver_file_exists(&fx, "stuck", "behaviour"));
	sl_daemon_fixture_clear(&fx);
}

/* a scan request held when SIGTERM comes is told why, not cut off */
static void
test_sigterm_answers_held_scan(void)
{
	SlDaemonFixture fx;
	SlHeldRequest held = {0};
	GPid export_pid;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_write(&fx, "config.json", "{\"scanTimeoutMs\": 60000}");
	sl_daemon_fixture_start(&fx);
	add_driver(&fx, "stuck", "hang");
	sl_held_request_start(&held, &fx, "POST", "/api/drivers/scan", "{}");
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_file_written, "stuck"));
	export_pid = read_pid(&fx, "stuck", "pid");

	sl_daemon_fixture_stop(&fx);
	sl_held_request_join(&held);
	g_assert_cmpuint(held.status, ==, 503);
	sl_daemon_fixture_assert_error(held.reply, "unavailable", "the daemon is shutting down");
	g_assert_false(sl_daemon_fixture_pid_alive(export_pid));
	g_assert_true(driver_file_exists(&fx, "stuck", "behaviour"));
	sl_held_request_clear(&held);
	sl_daemon_fixture_clear(&fx);
}

static gboolean
instance_has_pid(SlDaemonFixture *fx, gpointer path)
{
	g_autoptr(JsonNode) node = request_ok(fx, "GET", path, NULL, 200);

	return json_object_get_int_member_with_default(json_node_get_object(node), "pid", 0) > 0;
}

/*
 * A services scan stuck in its worker thread (a FIFO for a manifest) cannot be cancelled:
 * the shutdown stops waiting for it, stops the instances anyway and exits.
 */
static void
test_sigterm_with_stuck_scan(void)
{
	SlDaemonFixture fx;
	SlHeldRequest held = {0};
	g_autoptr(JsonNode) started = NULL;
	g_autoptr(JsonNode) instance = NULL;
	g_autofree char *late = NULL;
	g_autofree char *fifo = NULL;
	g_autofree char *path = NULL;
	GPid pid;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_add_test_service(&fx, "svc",
					   "{\"sleepMs\": {\"type\": \"int\", \"default\": 0}}");
	sl_daemon_fixture_add_project(&fx, "sleeper", "svc", NULL, "{\"sleepMs\": 60000}");
	sl_daemon_fixture_start(&fx);
	started = request_ok(&fx, "POST", "/api/projects/sleeper/start", NULL, 202);
	path = g_strdup_printf("/api/instances/%s", member_string(started, "instanceId"));
	g_assert_true(sl_daemon_fixture_wait(&fx, instance_has_pid, path));
	instance = request_ok(&fx, "GET", path, NULL, 200);
	pid = (GPid)json_object_get_int_member_with_default(json_node_get_object(instance), "pid",
							      0);

	late = sl_test_make_dir(fx.root, "services/late");
	fifo = g_build_filename(late, "manifest.json", NULL);
	g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
	sl_held_request_start(&held, &fx, "POST", "/api/services/scan", "{}");
	g_assert_true(sl_daemon_fixture_wait(&fx, has_running_job, "services.scan"));

	sl_daemon_fixture_stop(&fx);
	sl_held_request_join(&held);
	g_assert_cmpuint(held.status, ==, 503);
	sl_daemon_fixture_assert_error(held.reply, "unavailable", "the daemon is shutting down");
	g_assert_false(sl_daemon_fixture_pid_alive(pid));
	sl_held_request_clear(&held);
	sl_daemon_fixture_clear(&fx);
}

/* ---- driver scans --------------------------------------------------------------------- */

static gboolean
failure_has_code(JsonNode *job, const char *dir, const char *code)
{
	JsonArray *failures = json_object_get_array_member(json_node_get_object(job), "failures");

	for (guint i = 0; i < json_array_get_length(failures); i++) {
		JsonObject *failure = json_array_get_object_element(failures, i);

		if (g_str_equal(json_object_get_string_member(failure, "dir"), dir))
			return g_str_equal(json_object_get_string_member(failure, "code"), code);
	}
	return FALSE;
}

static void
test_driver_scan_held_counters(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonNode) jobs = NULL;
	g_autoptr(JsonNode) job = NULL;
	JsonArray *list;
	g_autofree char *quarantined = NULL;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_write(&fx, "config.json", "{\"scanTimeoutMs\": 400}");
	sl_daemon_fixture_start(&fx);

	add_driver(&fx, "fast", "ok demo.fast");
	add_driver(&fx, "broken", "exit 3");
	add_driver(&fx, "hanging", "hang");
	add_driver(&fx, "garbage", "invalid");
	add_driver(&fx, "noid", "noid");
	add_driver(&fx, "old.failed", "ok demo.old");

	/* no Prefer header: the answer waits for the job, in the spec's shape */
	result = request_ok(&fx, "POST", "/api/drivers/scan", "{}", 200);
	g_assert_cmpint(result_int(result, "scanned"), ==, 5);
	g_assert_cmpint(result_int(result, "updated"), ==, 1);
	g_assert_cmpint(result_int(result, "newlyFailed"), ==, 3);
	g_assert_cmpint(result_int(result, "skippedFailed"), ==, 1);
	g_assert_cmpuint(json_object_get_size(json_node_get_object(result)), ==, 4);

	/* quarantined on disk; a meta without id is skipped but not quarantined */
	quarantined = g_build_filename(fx.root, "drivers", "hanging.failed", NULL);
	g_assert_true(g_file_test(quarantined, G_FILE_TEST_IS_DIR));
	g_assert_false(driver_file_exists(&fx, "broken", "behaviour"));
	g_assert_true(driver_file_exists(&fx, "noid", "behaviour"));
	g_assert_cmpuint(count_drivers(&fx), ==, 1);

	/* the job keeps the reasons */
	jobs = request_ok(&fx, "GET", "/api/jobs?kind=drivers.scan&status=succeeded", NULL, 200);
	list = json_object_get_array_member(json_node_get_object(jobs), "jobs");
	g_assert_cmpuint(json_array_get_length(list), ==, 2);
	job = get_job(&fx, json_object_get_string_member(json_array_get_object_element(list, 1),
							 "id"));
	g_assert_true(failure_has_code(job, "hanging", "scan_timeout"));
	g_assert_true(failure_has_code(job, "broken", "export_failed"));
	g_assert_true(failure_has_code(job, "noid", "invalid_data"));
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

static void
test_failed_refresh_keeps_meta(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonNode) driver = NULL;
	g_autofree char *meta_path = NULL;
	g_autofree char *before = NULL;
	g_autofree char *after = NULL;

	sl_daemon_fixture_init(&fx);
	add_driver(&fx, "keeper", "ok demo.keeper");
	sl_daemon_fixture_start(&fx);
	meta_path = g_build_filename(fx.root, "drivers", "keeper", "driver.meta.json", NULL);
	before = sl_test_read_file(meta_path);

	/* the driver now truncates its meta and fails */
	set_behaviour(&fx, "keeper", "exit 2");
	result = request_ok(&fx, "POST", "/api/drivers/scan", "{\"refreshMeta\": true}", 200);
	g_assert_cmpint(result_int(result, "updated"), ==, 1);
	g_assert_cmpint(result_int(result, "newlyFailed"), ==, 0);
	after = sl_test_read_file(meta_path);
	g_assert_cmpstr(after, ==, before);
	driver = request_ok(&fx, "GET", "/api/drivers/demo.keeper", NULL, 200);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

static void
test_async_dedupe_and_conflict(void)
{
	SlDaemonFixture fx;
	g_autofree char *first = NULL;
	g_autofree char *again = NULL;
	g_autofree char *by_query = NULL;
	g_autoptr(JsonNode) conflict = NULL;
	g_autoptr(JsonNode) running = NULL;
	g_autoptr(JsonNode) job = NULL;
	JsonObject *object;
	guint status = 0;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	add_driver(&fx, "slow", "ok demo.slow 1500");

	first = submit_async(&fx, "/api/drivers/scan", "{}");
	running = get_job(&fx, first);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     json_node_get_object(running), "failures")),
			 ==, 0);
	again = submit_async(&fx, "/api/drivers/scan", "{\"refreshMeta\": true}");
	g_assert_cmpstr(again, ==, first);
	by_query = submit_async(&fx, "/api/drivers/scan?async=true", NULL);
	g_assert_cmpstr(by_query, ==, first);

	conflict = sl_daemon_fixture_request(&fx, "POST", "/api/drivers/scan",
					     "{\"refreshMeta\": false}", &status);
	g_assert_cmpuint(status, ==, 409);
	sl_daemon_fixture_assert_error(conflict, "job_conflict", NULL);
	g_assert_cmpstr(member_string(conflict, "jobId"), ==, first);

	job = wait_job(&fx, first);
	object = json_node_get_object(job);
	g_assert_cmpstr(json_object_get_string_member(object, "kind"), ==, "drivers.scan");
	g_assert_cmpstr(json_object_get_string_member(object, "status"), ==, "succeeded");
	g_assert_true(json_object_get_boolean_member(
	    json_object_get_object_member(object, "params"), "refreshMeta"));
	g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(object, "result"),
						   "updated"),
			==, 1);
	g_assert_cmpint(json_object_get_int_member(
			    json_object_get_object_member(object, "progress"), "done"),
			==, 1);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

static gboolean
job_is_canceled(SlDaemonFixture *fx, gpointer id)
{
	g_autoptr(JsonNode) job = get_job(fx, id);

	return g_str_equal(member_string(job, "status"), "canceled");
}

/* cancel kills the exports, answers the held request with 409 and commits nothing */
static void
test_cancel_commits_nothing(void)
{
	SlDaemonFixture fx;
	SlHeldRequest held = {0};
	g_autofree char *id = NULL;
	g_autofree char *path = NULL;
	g_autoptr(JsonNode) canceled = NULL;
	g_autoptr(JsonNode) again = NULL;
	guint status = 0;
	GPid export_pid, child_pid;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_write(&fx, "config.json", "{\"scanTimeoutMs\": 20000}");
	add_driver(&fx, "first", "ok demo.first");
	sl_daemon_fixture_start(&fx);
	add_driver(&fx, "second", "ok demo.second");
	add_driver(&fx, "stuck", "hang");

	sl_held_request_start(&held, &fx, "POST", "/api/drivers/scan", "{}");
	g_assert_true(sl_daemon_fixture_wait(&fx, has_running_job, "drivers.scan"));
	g_assert_true(sl_daemon_fixture_wait(&fx, pid_file_written, "stuck"));
	id = active_job_id(&fx, "drivers.scan");
	export_pid = read_pid(&fx, "stuck", "pid");
	child_pid = read_pid(&fx, "stuck", "child-pid");

	path = g_strdup_printf("/api/jobs/%s/cancel", id);
	canceled = request_ok(&fx, "POST", path, NULL, 202);
	g_assert_cmpstr(member_string(canceled, "id"), ==, id);
	g_assert_true(sl_daemon_fixture_wait(&fx, job_is_canceled, id));

	/* the held request learns it */
	sl_held_request_join(&held);
	g_assert_cmpuint(held.status, ==, 409);
	sl_daemon_fixture_assert_error(held.reply, "conflict", "job was canceled");
	g_assert_cmpstr(member_string(held.reply, "jobId"), ==, id);

	/* nothing committed: the old catalogue, no quarantine, no new meta, no process */
	g_assert_cmpuint(count_drivers(&fx), ==, 1);
	g_assert_true(driver_file_exists(&fx, "stuck", "behaviour"));
	g_assert_false(driver_file_exists(&fx, "stuck", "driver.meta.json"));
	g_assert_false(sl_daemon_fixture_pid_alive(export_pid));
	g_assert_false(sl_daemon_fixture_pid_alive(child_pid));

	/* a finished job cannot be cancelled again */
	again = sl_daemon_fixture_request(&fx, "POST", path, NULL, &status);
	g_assert_cmpuint(status, ==, 409);
	sl_daemon_fixture_assert_error(again, "conflict", NULL);
	sl_held_request_clear(&held);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

/* while a held scan runs, other requests are answered, in order, before it */
static void
test_other_requests_answered_during_scan(void)
{
	SlDaemonFixture fx;
	SlHeldRequest held = {0};
	g_autofree char *id = NULL;
	g_autoptr(JsonNode) services = NULL;
	g_autoptr(JsonNode) job = NULL;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	add_driver(&fx, "gate", "ok demo.gate 2000");

	sl_held_request_start(&held, &fx, "POST", "/api/drivers/scan", "{\"refreshMeta\": true}");
	g_assert_true(sl_daemon_fixture_wait(&fx, has_running_job, "drivers.scan"));
	id = active_job_id(&fx, "drivers.scan");

	services = request_ok(&fx, "GET", "/api/services", NULL, 200);
	job = get_job(&fx, id);
	g_assert_cmpstr(member_string(job, "status"), ==, "running");
	g_assert_cmpint(g_atomic_int_get(&held.done), ==, 0);

	sl_held_request_join(&held);
	g_assert_cmpuint(held.status, ==, 200);
	g_assert_cmpint(result_int(held.reply, "updated"), ==, 1);
	sl_held_request_clear(&held);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

/* the job's events, oldest first, from the event ring */
static GPtrArray *
job_events(SlDaemonFixture *fx, const char *id)
{
	g_autoptr(JsonNode) node = request_ok(fx, "GET", "/api/events?type=job.&limit=1000",
					      NULL, 200);
	JsonArray *events = json_object_get_array_member(json_node_get_object(node), "events");
	GPtrArray *mine = g_ptr_array_new_with_free_func((GDestroyNotify)json_object_unref);

	/* newest first in the answer */
	for (guint i = json_array_get_length(events); i > 0; i--) {
		JsonObject *event = json_array_get_object_element(events, i - 1);
		JsonObject *data = json_object_get_object_member(event, "data");

		if (g_str_equal(json_object_get_string_member(data, "jobId"), id))
			g_ptr_array_add(mine, json_object_ref(event));
	}
	return mine;
}

static void
test_progress_events_in_order(void)
{
	SlDaemonFixture fx;
	g_autofree char *id = NULL;
	g_autoptr(JsonNode) job = NULL;
	g_autoptr(GPtrArray) events = NULL;
	gint64 last_done = -1;
	guint terminal = 0;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	add_driver(&fx, "one", "ok demo.one 100");
	add_driver(&fx, "two", "ok demo.two 200");
	add_driver(&fx, "three", "ok demo.three 300");

	id = submit_async(&fx, "/api/drivers/scan", NULL);
	job = wait_job(&fx, id);
	events = job_events(&fx, id);

	g_assert_cmpuint(events->len, >=, 3);
	g_assert_cmpstr(json_object_get_string_member(events->pdata[0], "type"), ==,
			"job.started");
	for (guint i = 1; i < events->len; i++) {
		const char *type = json_object_get_string_member(events->pdata[i], "type");
		JsonObject *data = json_object_get_object_member(events->pdata[i], "data");

		g_assert_cmpuint(terminal, ==, 0);
		/* 0 of 3 once the folders are listed, then one step per folder */
		if (g_str_equal(type, "job.progress")) {
			gint64 done = json_object_get_int_member(data, "done");

			g_assert_cmpint(done, ==, last_done + 1);
			g_assert_cmpint(json_object_get_int_member(data, "total"), ==, 3);
			last_done = done;
			continue;
		}
		g_assert_cmpstr(type, ==, "job.finished");
		g_assert_cmpint(json_object_get_int_member(
				    json_object_get_object_member(data, "result"), "updated"),
				==, 3);
		terminal++;
	}
	g_assert_cmpint(last_done, ==, 3);
	g_assert_cmpuint(terminal, ==, 1);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

static void
test_job_route_errors(void)
{
	SlDaemonFixture fx;
	static const struct {
		const char *method;
		const char *path;
		const char *body;
		guint status;
		const char *code;
		const char *message;
	} cases[] = {
		{"GET", "/api/jobs/0123456789abcdef", NULL, 404, "not_found", "job not found"},
		{"POST", "/api/jobs/nope/cancel", NULL, 404, "not_found", "job not found"},
		{"GET", "/api/jobs?status=sleeping", NULL, 400, "bad_request",
		 "unknown job status: sleeping"},
		{"POST", "/api/drivers/scan", "{\"refreshMeta\": 1}", 400, "bad_request",
		 "field 'refreshMeta' must be a bool"},
		{"POST", "/api/drivers/scan", "[true]", 400, "bad_request",
		 "request body must be a JSON object"},
		{"POST", "/api/services/scan", "{\"revalidateProjects\": null}", 400, "bad_request",
		 "field 'revalidateProjects' must be a bool"},
		{"POST", "/api/services/scan", "{\"restartScheduling\": \"yes\"}", 400,
		 "bad_request", "field 'restartScheduling' must be a bool"},
		{"POST", "/api/services/scan", "{\"stopInvalidProjects\": 0}", 400, "bad_request",
		 "field 'stopInvalidProjects' must be a bool"},
		{"DELETE", "/api/jobs", NULL, 405, "method_not_allowed", NULL},
	};

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_start(&fx);
	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		guint status = 0;
		g_autoptr(JsonNode) node = sl_daemon_fixture_request(&fx, cases[i].method,
								     cases[i].path, cases[i].body,
								     &status);

		g_test_message("%s %s", cases[i].method, cases[i].path);
		g_assert_cmpuint(status, ==, cases[i].status);
		sl_daemon_fixture_assert_error(node, cases[i].code, cases[i].message);
	}

	/* nothing was submitted by the refused requests */
	g_autoptr(JsonNode) jobs = request_ok(&fx, "GET", "/api/jobs", NULL, 200);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     json_node_get_object(jobs), "jobs")),
			 ==, 2);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

/* an unreadable folder fails the scan and changes nothing, where it used to empty it all */
static void
test_unreadable_folders_fail_scans(void)
{
	SlDaemonFixture fx;
	g_autofree char *drivers = NULL;
	g_autofree char *services = NULL;
	g_autofree char *moved = NULL;
	g_autoptr(JsonNode) drivers_failed = NULL;
	g_autoptr(JsonNode) services_failed = NULL;
	g_autoptr(JsonNode) list = NULL;
	guint status = 0;

	sl_daemon_fixture_init(&fx);
	add_driver(&fx, "keep", "ok demo.keep");
	sl_daemon_fixture_add_test_service(&fx, "svc", SCHEMA_PORT);
	sl_daemon_fixture_start(&fx);

	/* files where the folders were: the same failure for every user, root too */
	drivers = g_build_filename(fx.root, "drivers", NULL);
	moved = g_build_filename(fx.root, "drivers.away", NULL);
	g_assert_cmpint(g_rename(drivers, moved), ==, 0);
	sl_daemon_fixture_write(&fx, "drivers", "not a folder");
	services = g_build_filename(fx.root, "services", NULL);
	g_assert_true(sl_test_remove_tree(services));
	sl_daemon_fixture_write(&fx, "services", "not a folder");

	drivers_failed = sl_daemon_fixture_request(&fx, "POST", "/api/drivers/scan", "{}",
						   &status);
	g_assert_cmpuint(status, ==, 500);
	sl_daemon_fixture_assert_error(drivers_failed, "internal", NULL);
	g_assert_true(g_str_has_prefix(member_string(drivers_failed, "error"),
				       "cannot read folder "));
	g_assert_cmpuint(count_drivers(&fx), ==, 1);

	services_failed = sl_daemon_fixture_request(&fx, "POST", "/api/services/scan", "{}",
						    &status);
	g_assert_cmpuint(status, ==, 500);
	sl_daemon_fixture_assert_error(services_failed, "internal", NULL);
	list = request_ok(&fx, "GET", "/api/services", NULL, 200);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     json_node_get_object(list), "services")),
			 ==, 1);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

/* ---- service scans -------------------------------------------------------------------- */


static gint64
member_int(JsonNode *node, const char *member)
{
	return json_object_get_int_member(json_node_get_object(node), member);
}

/* what the service routes changed is what a scan finds on disk; hand edits are picked up */
static void
test_services_scan_counters(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) created = NULL;
	g_autoptr(JsonNode) written = NULL;
	g_autoptr(JsonNode) first = NULL;
	g_autoptr(JsonNode) second = NULL;
	g_autoptr(JsonNode) runtime = NULL;
	g_autofree char *removed_dir = NULL;
	JsonArray *invalid;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_add_test_service(&fx, "keep", SCHEMA_PORT);
	sl_daemon_fixture_add_test_service(&fx, "bump", SCHEMA_PORT);
	sl_daemon_fixture_add_test_service(&fx, "gone", SCHEMA_PORT);
	sl_daemon_fixture_add_project(&fx, "p-gone", "gone", "{\"type\":\"manual\"}", "{}");
	sl_daemon_fixture_add_project(&fx, "p-keep", "keep", "{\"type\":\"manual\"}", "{}");
	sl_daemon_fixture_start(&fx);

	/* changes through the routes */
	created = request_ok(&fx, "POST", "/api/services",
			     "{\"id\":\"made\",\"name\":\"Made\",\"version\":\"1.0.0\","
			     "\"template\":\"empty\"}",
			     201);
	written = request_ok(&fx, "PUT", "/api/services/made/files/content?path=config.schema.json",
			     "{\"content\": \"{\\\"port\\\": {\\\"type\\\": \\\"int\\\"}}\"}", 200);
	first = request_ok(&fx, "POST", "/api/services/scan", "{}", 200);
	g_assert_cmpint(member_int(first, "scannedDirs"), ==, 4);
	g_assert_cmpint(member_int(first, "loadedServices"), ==, 4);
	g_assert_cmpint(member_int(first, "added"), ==, 0);
	g_assert_cmpint(member_int(first, "updated"), ==, 0);
	g_assert_cmpint(member_int(first, "unchanged"), ==, 4);
	g_assert_cmpint(member_int(first, "revalidatedProjects"), ==, 2);

	/* changes by hand: a new version, a removed folder, a broken one, a new one */
	sl_daemon_fixture_write(&fx, "services/bump/manifest.json",
				"{\"manifestVersion\":\"1\",\"id\":\"bump\",\"name\":\"Bump\","
				"\"version\":\"2.0\",\"runtime\":\"exec\",\"entry\":\"run\"}");
	removed_dir = g_build_filename(fx.root, "services", "gone", NULL);
	g_assert_true(sl_test_remove_tree(removed_dir));
	sl_daemon_fixture_write(&fx, "services/broken/manifest.json", "{");
	sl_daemon_fixture_add_test_service(&fx, "fresh", SCHEMA_NEEDS_HOST);

	second = request_ok(&fx, "POST", "/api/services/scan", "{\"stopInvalidProjects\": true}",
			    200);
	g_assert_cmpint(member_int(second, "scannedDirs"), ==, 5);
	g_assert_cmpint(member_int(second, "loadedServices"), ==, 4);
	g_assert_cmpint(member_int(second, "failedServices"), ==, 1);
	g_assert_cmpint(member_int(second, "added"), ==, 1);
	g_assert_cmpint(member_int(second, "removed"), ==, 1);
	g_assert_cmpint(member_int(second, "updated"), ==, 1);
	g_assert_cmpint(member_int(second, "unchanged"), ==, 2);
	g_assert_cmpint(member_int(second, "becameInvalid"), ==, 1);
	g_assert_cmpint(member_int(second, "becameValid"), ==, 0);
	g_assert_cmpint(member_int(second, "remainedInvalid"), ==, 0);
	g_assert_true(json_object_get_boolean_member(json_node_get_object(second),
						     "schedulingRestarted"));
	invalid = json_object_get_array_member(json_node_get_object(second), "invalidProjects");
	g_assert_cmpuint(json_array_get_length(invalid), ==, 1);
	g_assert_cmpstr(json_array_get_string_element(invalid, 0), ==, "p-gone");

	runtime = request_ok(&fx, "GET", "/api/projects/p-gone/runtime", NULL, 200);
	g_assert_false(json_object_get_boolean_member(json_node_get_object(runtime), "valid"));
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

/* a service coming back makes its project valid again; without revalidation nothing moves */
static void
test_services_scan_flags(void)
{
	SlDaemonFixture fx;
	g_autoptr(JsonNode) quiet = NULL;
	g_autoptr(JsonNode) back = NULL;

	sl_daemon_fixture_init(&fx);
	sl_daemon_fixture_add_project(&fx, "orphan", "later", "{\"type\":\"manual\"}", "{}");
	sl_daemon_fixture_start(&fx);
	sl_daemon_fixture_add_test_service(&fx, "later", SCHEMA_PORT);

	quiet = request_ok(&fx, "POST", "/api/services/scan",
			   "{\"revalidateProjects\": false, \"restartScheduling\": false}", 200);
	g_assert_cmpint(member_int(quiet, "added"), ==, 1);
	g_assert_cmpint(member_int(quiet, "revalidatedProjects"), ==, 0);
	g_assert_false(json_object_get_boolean_member(json_node_get_object(quiet),
						      "schedulingRestarted"));

	back = request_ok(&fx, "POST", "/api/services/scan", NULL, 200);
	g_assert_cmpint(member_int(back, "unchanged"), ==, 1);
	g_assert_cmpint(member_int(back, "becameValid"), ==, 1);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     json_node_get_object(back), "invalidProjects")),
			 ==, 0);
	sl_daemon_fixture_stop(&fx);
	sl_daemon_fixture_clear(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/scan-jobs/startup-scans-are-jobs", test_startup_scans_are_jobs);
	g_test_add_func("/scan-jobs/metrics-count-jobs", test_metrics_count_jobs);
	g_test_add_func("/scan-jobs/startup-listens-before-slow-drivers",
			test_startup_listens_before_slow_drivers);
	g_test_add_func("/scan-jobs/changes-refused-while-loading",
			test_changes_refused_while_loading);
	g_test_add_func("/scan-jobs/sigterm-during-startup-scan",
			test_sigterm_during_startup_scan);
	g_test_add_func("/scan-jobs/sigterm-answers-held-scan", test_sigterm_answers_held_scan);
	g_test_add_func("/scan-jobs/sigterm-with-stuck-scan", test_sigterm_with_stuck_scan);
	g_test_add_func("/scan-jobs/driver-scan-held-counters", test_driver_scan_held_counters);
	g_test_add_func("/scan-jobs/failed-refresh-keeps-meta", test_failed_refresh_keeps_meta);
	g_test_add_func("/scan-jobs/async-dedupe-conflict", test_async_dedupe_and_conflict);
	g_test_add_func("/scan-jobs/cancel-commits-nothing", test_cancel_commits_nothing);
	g_test_add_func("/scan-jobs/other-requests-during-scan",
			test_other_requests_answered_during_scan);
	g_test_add_func("/scan-jobs/progress-events-in-order", test_progress_events_in_order);
	g_test_add_func("/scan-jobs/job-route-errors", test_job_route_errors);
	g_test_add_func("/scan-jobs/unreadable-folders-fail-scans",
			test_unreadable_folders_fail_scans);
	g_test_add_func("/scan-jobs/services-scan-counters", test_services_scan_counters);
	g_test_add_func("/scan-jobs/services-scan-flags", test_services_scan_flags);
	return g_test_run();
}

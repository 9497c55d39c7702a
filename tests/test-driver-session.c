#include "config.h"

#include <signal.h>
#include <string.h>

#include "stdiolink.h"

/*
 * The host-side driver session against real driver processes: the demo drivers and
 * sl-test-driver. Everything is asynchronous; the tests spin the default main context.
 */

#define WAIT_LIMIT_US (20 * G_USEC_PER_SEC)

typedef struct {
	GPtrArray *lines;
	GPtrArray *events;
	guint overflows;
	gboolean exited;
	gint exit_code;
	gboolean crashed;
	guint lines_at_exit;
	StdiolinkJsonlResponse *result;
	GError *error;
	gboolean finished;
} Watch;

static void
watch_init(Watch *watch)
{
	memset(watch, 0, sizeof(*watch));
	watch->lines = g_ptr_array_new_with_free_func(g_free);
	watch->events = g_ptr_array_new_with_free_func(g_free);
}

static void
watch_clear(Watch *watch)
{
	g_ptr_array_unref(watch->lines);
	g_ptr_array_unref(watch->events);
	g_clear_pointer(&watch->result, stdiolink_jsonl_response_free);
	g_clear_error(&watch->error);
}

static void
watch_reset_result(Watch *watch)
{
	g_clear_pointer(&watch->result, stdiolink_jsonl_response_free);
	g_clear_error(&watch->error);
	watch->finished = FALSE;
}

static void
line_cb(StdiolinkDriverSession *session, const char *line, gpointer user_data)
{
	Watch *watch = user_data;

	g_ptr_array_add(watch->lines, g_strdup(line));
}

static void
overflow_cb(StdiolinkDriverSession *session, gpointer user_data)
{
	Watch *watch = user_data;

	watch->overflows++;
}

static void
exited_cb(StdiolinkDriverSession *session, gint code, gboolean crashed, gpointer user_data)
{
	Watch *watch = user_data;

	g_assert_false(watch->exited);
	watch->exited = TRUE;
	watch->exit_code = code;
	watch->crashed = crashed;
	watch->lines_at_exit = watch->lines->len;
}

static void
event_cb(const StdiolinkJsonlResponse *response, gpointer user_data)
{
	Watch *watch = user_data;

	g_ptr_array_add(watch->events,
			stdiolink_json_to_string(response->data, STDIOLINK_JSON_COMPACT));
}

static void
request_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Watch *watch = user_data;

	watch->result = stdiolink_driver_session_request_finish(
	    STDIOLINK_DRIVER_SESSION(source), res, &watch->error);
	watch->finished = TRUE;
}

static void
wait_for(gboolean *flag)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_LIMIT_US;

	while (!*flag && g_get_monotonic_time() < deadline) {
		if (!g_main_context_iteration(NULL, FALSE))
			g_usleep(1000);
	}
	g_assert_true(*flag);
}

static char *
demo_driver(const char *name)
{
	g_autofree char *exe = g_strconcat("stdio.drv.", name, NULL);

	return g_build_filename(g_getenv("SL_DEMO_DRIVERS"), name, exe, NULL);
}

static StdiolinkDriverSession *
session_new(const char *name, const char *profile, Watch *watch)
{
	g_autofree char *program = g_str_equal(name, "test") ? g_strdup(g_getenv("SL_TEST_DRIVER"))
							      : demo_driver(name);
	g_autofree char *arg = g_strconcat("--profile=", profile, NULL);
	const char *args[] = {arg, NULL};
	StdiolinkDriverSession *session = stdiolink_driver_session_new(program, args, NULL);
	g_autoptr(GError) error = NULL;

	g_signal_connect(session, "line", G_CALLBACK(line_cb), watch);
	g_signal_connect(session, "overflow", G_CALLBACK(overflow_cb), watch);
	g_signal_connect(session, "exited", G_CALLBACK(exited_cb), watch);
	g_assert_true(stdiolink_driver_session_start(session, &error));
	g_assert_no_error(error);
	g_assert_true(stdiolink_driver_session_is_running(session));
	g_assert_cmpint(stdiolink_driver_session_get_pid(session), >, 0);
	return session;
}

static void
request(StdiolinkDriverSession *session, const char *cmd, const char *data, Watch *watch,
	GCancellable *cancellable)
{
	g_autoptr(JsonNode) node = data != NULL ? stdiolink_json_parse(data, -1, NULL) : NULL;

	stdiolink_driver_session_request_async(session, cmd, node, event_cb, watch, cancellable,
					       request_done_cb, watch);
}

static void
assert_result(Watch *watch, StdiolinkJsonlStatus status, gint64 code, const char *data)
{
	g_autofree char *text = NULL;

	g_assert_no_error(watch->error);
	g_assert_nonnull(watch->result);
	text = stdiolink_json_to_string(watch->result->data, STDIOLINK_JSON_COMPACT);
	g_assert_cmpint(watch->result->status, ==, status);
	g_assert_cmpint(watch->result->code, ==, code);
	if (data != NULL)
		g_assert_cmpstr(text, ==, data);
}

static gboolean
pid_alive(GPid pid)
{
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", pid);
	g_autofree char *stat = NULL;
	const char *close_paren;

	if (!g_file_get_contents(stat_path, &stat, NULL, NULL))
		return FALSE;
	close_paren = strrchr(stat, ')');
	return close_paren != NULL && close_paren[2] != 'Z';
}

/* ---- tests ----------------------------------------------------------------------------- */

static void
test_request_func(void)
{
	Watch watch;
	Watch second;
	g_autoptr(StdiolinkDriverSession) session = NULL;

	watch_init(&watch);
	watch_init(&second);
	session = session_new("calculator", "keepalive", &watch);

	/* the second request waits for the first one's terminal line */
	request(session, "add", "{\"a\":1,\"b\":2}", &watch, NULL);
	request(session, "divide", "{\"a\":1,\"b\":0}", &second, NULL);
	wait_for(&second.finished);
	g_assert_true(watch.finished);
	assert_result(&watch, STDIOLINK_JSONL_DONE, 0, "{\"result\":3}");
	assert_result(&second, STDIOLINK_JSONL_ERROR, 1, "{\"message\":\"division by zero\"}");
	g_assert_cmpuint(watch.lines->len, ==, 2);

	/* closing stdin ends a keepalive driver normally */
	stdiolink_driver_session_close_stdin(session);
	wait_for(&watch.exited);
	g_assert_cmpint(watch.exit_code, ==, 0);
	g_assert_false(watch.crashed);
	g_assert_false(stdiolink_driver_session_is_running(session));
	watch_clear(&watch);
	watch_clear(&second);
}

static void
test_events_func(void)
{
	Watch watch;
	g_autoptr(StdiolinkDriverSession) session = NULL;

	watch_init(&watch);
	session = session_new("heartbeat", "oneshot", &watch);
	request(session, "beat", "{\"count\":3,\"intervalMs\":5}", &watch, NULL);
	wait_for(&watch.finished);
	assert_result(&watch, STDIOLINK_JSONL_DONE, 0, "{\"beats\":3}");
	g_assert_cmpuint(watch.events->len, ==, 3);
	g_assert_cmpstr(watch.events->pdata[2], ==,
			"{\"data\":{\"label\":\"beat\",\"n\":3,\"of\":3},\"event\":\"beat\"}");

	/* a oneshot driver exits after its request, and its lines all came first */
	wait_for(&watch.exited);
	g_assert_cmpint(watch.exit_code, ==, 0);
	g_assert_cmpuint(watch.lines_at_exit, ==, 4);
	watch_clear(&watch);
}

static void
test_raw_lines_func(void)
{
	Watch watch;
	g_autoptr(StdiolinkDriverSession) session = NULL;
	g_autoptr(JsonNode) meta = NULL;

	watch_init(&watch);
	session = session_new("kvstore", "oneshot", &watch);
	stdiolink_driver_session_write_line(session, "{\"cmd\":\"meta.describe\",\"data\":{}}\n");
	wait_for(&watch.exited);
	g_assert_cmpuint(watch.lines->len, ==, 1);
	meta = stdiolink_json_parse(watch.lines->pdata[0], -1, NULL);
	g_assert_cmpstr(json_object_get_string_member(json_node_get_object(meta), "status"), ==,
			"done");

	/* lines for a process that is gone are dropped; a restart gets a new process */
	stdiolink_driver_session_write_line(session, "{\"cmd\":\"list\"}\n");
	watch.exited = FALSE;
	g_assert_true(stdiolink_driver_session_start(session, NULL));
	request(session, "list", NULL, &watch, NULL);
	wait_for(&watch.finished);
	assert_result(&watch, STDIOLINK_JSONL_DONE, 0, "{\"count\":0,\"keys\":[]}");
	wait_for(&watch.exited);
	watch_clear(&watch);
}

static void
test_crash_func(void)
{
	Watch watch;
	g_autoptr(StdiolinkDriverSession) session = NULL;

	watch_init(&watch);
	session = session_new("test", "keepalive", &watch);
	request(session, "crash", NULL, &watch, NULL);
	wait_for(&watch.finished);

	/* the event before the crash arrives; the request fails with the host's 1001 */
	g_assert_cmpuint(watch.events->len, ==, 1);
	assert_result(&watch, STDIOLINK_JSONL_ERROR, 1001, "{\"message\":\"driver exited\"}");
	g_assert_true(watch.exited);
	g_assert_true(watch.crashed);
	g_assert_cmpint(watch.exit_code, ==, SIGKILL);

	/* no process, no request */
	watch_reset_result(&watch);
	request(session, "echo", NULL, &watch, NULL);
	wait_for(&watch.finished);
	assert_result(&watch, STDIOLINK_JSONL_ERROR, 1001,
		      "{\"message\":\"driver is not running\"}");
	watch_clear(&watch);
}

static void
test_exit_code_func(void)
{
	Watch watch;
	g_autoptr(StdiolinkDriverSession) session = NULL;

	watch_init(&watch);
	session = session_new("test", "keepalive", &watch);
	request(session, "exit", "{\"code\":5}", &watch, NULL);
	wait_for(&watch.exited);
	g_assert_cmpint(watch.exit_code, ==, 5);
	g_assert_false(watch.crashed);
	wait_for(&watch.finished);
	assert_result(&watch, STDIOLINK_JSONL_ERROR, 1001, NULL);
	watch_clear(&watch);
}

static void
test_invalid_response_func(void)
{
	Watch watch;
	Watch next;
	g_autoptr(StdiolinkDriverSession) session = NULL;

	watch_init(&watch);
	watch_init(&next);
	session = session_new("test", "keepalive", &watch);
	request(session, "raw", "{\"text\":\"not json\"}", &watch, NULL);
	request(session, "echo", "{\"mode\":\"b\"}", &next, NULL);
	wait_for(&next.finished);

	/* the line that is not a response ends the request in flight with 1000 */
	assert_result(&watch, STDIOLINK_JSONL_ERROR, 1000,
		      "{\"message\":\"invalid response\",\"raw\":\"not json\"}");

	/*
	 * the driver's own done for "raw" then counts for the next request: the protocol
	 * has no request ids, which is why a host must treat 1000 as fatal in practice
	 */
	assert_result(&next, STDIOLINK_JSONL_DONE, 0, "null");

	/* every line is seen in order; the echo's own answer may already be in as well */
	g_assert_cmpuint(watch.lines->len, >=, 2);
	g_assert_cmpstr(watch.lines->pdata[0], ==, "not json");
	g_assert_cmpstr(watch.lines->pdata[1], ==,
			"{\"code\":0,\"data\":null,\"status\":\"done\"}");
	watch_clear(&watch);
	watch_clear(&next);
}

static void
test_overflow_func(void)
{
	Watch watch;
	g_autoptr(StdiolinkDriverSession) session = NULL;

	watch_init(&watch);
	session = session_new("test", "keepalive", &watch);
	request(session, "flood", NULL, &watch, NULL);
	wait_for(&watch.finished);
	assert_result(&watch, STDIOLINK_JSONL_ERROR, 1002,
		      "{\"message\":\"output buffer overflow\"}");
	g_assert_cmpuint(watch.overflows, ==, 1);

	/* the driver is killed for it */
	wait_for(&watch.exited);
	g_assert_true(watch.crashed);
	g_assert_cmpuint(watch.lines->len, ==, 0);
	watch_clear(&watch);
}

static void
test_cancel_func(void)
{
	Watch watch;
	g_autoptr(StdiolinkDriverSession) session = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	gint first_pid;

	watch_init(&watch);
	session = session_new("heartbeat", "oneshot", &watch);
	first_pid = stdiolink_driver_session_get_pid(session);
	request(session, "beat", "{\"count\":1000,\"intervalMs\":50}", &watch, cancellable);
	while (watch.events->len == 0)
		g_main_context_iteration(NULL, TRUE);

	/* cancelling a request in flight kills the driver */
	g_cancellable_cancel(cancellable);
	wait_for(&watch.finished);
	g_assert_error(watch.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(watch.result);
	wait_for(&watch.exited);
	g_assert_true(watch.crashed);
	g_assert_false(pid_alive(first_pid));

	/* a oneshot host restarts it for the next request */
	watch_reset_result(&watch);
	watch.exited = FALSE;
	g_assert_true(stdiolink_driver_session_start(session, NULL));
	g_assert_cmpint(stdiolink_driver_session_get_pid(session), !=, first_pid);
	request(session, "status", NULL, &watch, NULL);
	wait_for(&watch.finished);
	assert_result(&watch, STDIOLINK_JSONL_DONE, 0, NULL);
	wait_for(&watch.exited);
	watch_clear(&watch);
}

static void
test_cancel_queued_func(void)
{
	Watch first;
	Watch second;
	g_autoptr(StdiolinkDriverSession) session = NULL;
	g_autoptr(GCancellable) cancellable = g_cancellable_new();

	watch_init(&first);
	watch_init(&second);
	session = session_new("test", "keepalive", &first);

	/* a request still waiting its turn is dropped; the driver lives on */
	request(session, "later", "{\"ms\":100}", &first, NULL);
	request(session, "echo", NULL, &second, cancellable);
	g_cancellable_cancel(cancellable);
	wait_for(&second.finished);
	g_assert_error(second.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	wait_for(&first.finished);
	assert_result(&first, STDIOLINK_JSONL_DONE, 0, "null");
	g_assert_true(stdiolink_driver_session_is_running(session));
	watch_clear(&first);
	watch_clear(&second);
}

static void
test_start_errors_func(void)
{
	g_autoptr(StdiolinkDriverSession) missing = NULL;
	g_autoptr(StdiolinkDriverSession) session = NULL;
	g_autoptr(GError) error = NULL;
	Watch watch;

	missing = stdiolink_driver_session_new("/nonexistent/stdio.drv.x", NULL, NULL);
	g_assert_false(stdiolink_driver_session_start(missing, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_START_FAILED);
	g_assert_nonnull(strstr(error->message, "No such file or directory"));
	g_assert_false(stdiolink_driver_session_is_running(missing));
	g_assert_cmpint(stdiolink_driver_session_get_pid(missing), ==, 0);
	g_clear_error(&error);

	watch_init(&watch);
	session = session_new("test", "keepalive", &watch);
	g_assert_false(stdiolink_driver_session_start(session, &error));
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT);
	g_assert_cmpstr(error->message, ==, "driver is already running");
	watch_clear(&watch);
}

static void
test_dispose_kills_func(void)
{
	Watch watch;
	StdiolinkDriverSession *session;
	gint pid;
	gint64 deadline = g_get_monotonic_time() + WAIT_LIMIT_US;

	watch_init(&watch);
	session = session_new("test", "keepalive", &watch);
	pid = stdiolink_driver_session_get_pid(session);
	stdiolink_driver_session_write_line(session, "{\"cmd\":\"hang\"}\n");
	while (watch.lines->len == 0)
		g_main_context_iteration(NULL, TRUE);

	/* dropping the session kills its driver, without waiting and without "exited" */
	g_object_unref(session);
	while (pid_alive(pid) && g_get_monotonic_time() < deadline) {
		g_main_context_iteration(NULL, FALSE);
		g_usleep(1000);
	}
	g_assert_false(pid_alive(pid));
	g_assert_false(watch.exited);
	watch_clear(&watch);
}

static void
test_environ_func(void)
{
	g_auto(GStrv) envp = NULL;
	g_auto(GStrv) plain = stdiolink_driver_environ(NULL);
	const char *path;

	g_setenv("PATH", "/usr/bin:/bin", TRUE);
	envp = stdiolink_driver_environ("/opt/stdiolink/bin");
	path = g_environ_getenv(envp, "PATH");
	g_assert_cmpstr(path, ==, "/opt/stdiolink/bin:/usr/bin:/bin");
	g_assert_cmpuint(g_strv_length(plain), >, 0);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/driver-session/request", test_request_func);
	g_test_add_func("/driver-session/events", test_events_func);
	g_test_add_func("/driver-session/raw-lines", test_raw_lines_func);
	g_test_add_func("/driver-session/crash", test_crash_func);
	g_test_add_func("/driver-session/exit-code", test_exit_code_func);
	g_test_add_func("/driver-session/invalid-response", test_invalid_response_func);
	g_test_add_func("/driver-session/overflow", test_overflow_func);
	g_test_add_func("/driver-session/cancel", test_cancel_func);
	g_test_add_func("/driver-session/cancel-queued", test_cancel_queued_func);
	g_test_add_func("/driver-session/start-errors", test_start_errors_func);
	g_test_add_func("/driver-session/dispose-kills", test_dispose_kills_func);
	g_test_add_func("/driver-session/environ", test_environ_func);
	return g_test_run();
}

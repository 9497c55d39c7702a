#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sl-daemon-fixture.h"
#include "sl-test-utils.h"

#define WAIT_LIMIT_US (20 * G_USEC_PER_SEC)
#define WAIT_STEP_US  (20 * 1000)

/**
 * sl_daemon_fixture_init:
 * @fx: the fixture
 *
 * Makes an empty data root in a fresh temporary folder; the daemon is not started yet, so
 * a test can lay out services, projects and config.json first.
 */
void
sl_daemon_fixture_init(SlDaemonFixture *fx)
{
	memset(fx, 0, sizeof(*fx));
	fx->root = sl_test_make_tmp_dir("stdiolinkd-test-XXXXXX");
	fx->session = sl_daemon_fixture_new_session();
	fx->env = g_ptr_array_new_with_free_func(g_free);
	fx->listen_fd = -1;
}

/**
 * sl_daemon_fixture_new_session:
 *
 * A session that talks straight to 127.0.0.1: the default proxy resolver would consult
 * the desktop settings, which isolated test dirs do not have.
 *
 * Returns: (transfer full): a new session
 */
SoupSession *
sl_daemon_fixture_new_session(void)
{
	g_autoptr(GProxyResolver) direct = g_simple_proxy_resolver_new(NULL, NULL);

	return soup_session_new_with_options("timeout", 30, "proxy-resolver", direct, NULL);
}

/* a test that dies must not leave its daemon behind; runs in the child before exec */
static void
daemon_child_setup(gpointer user_data)
{
	SlDaemonFixture *fx = user_data;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (fx->max_fds > 0) {
		struct rlimit limit = {.rlim_cur = fx->max_fds, .rlim_max = fx->max_fds};

		setrlimit(RLIMIT_NOFILE, &limit);
	}
}

static const char *
daemon_path(void)
{
	const char *path = g_getenv("STDIOLINKD");

	g_assert_nonnull(path);
	return path;
}

/* a data root protected by a token keeps it in token.txt in every test */
static char *
read_test_token(SlDaemonFixture *fx)
{
	g_autofree char *path = g_build_filename(fx->root, "token.txt", NULL);
	g_autofree char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return g_strdup(g_strstrip(text));
}

/* every job listed has ended */
static gboolean
jobs_settled(SlDaemonFixture *fx, gpointer unused)
{
	g_autofree char *url = g_strconcat(fx->base_url, "/api/jobs", NULL);
	g_autoptr(SoupMessage) msg = soup_message_new("GET", url);
	g_autofree char *token = read_test_token(fx);
	g_autoptr(JsonNode) node = NULL;
	JsonArray *jobs;
	guint status = 0;

	if (token != NULL) {
		g_autofree char *value = g_strconcat("Bearer ", token, NULL);

		soup_message_headers_replace(soup_message_get_request_headers(msg),
					     "Authorization", value);
	}
	node = sl_daemon_fixture_request_full(fx, msg, NULL, &status);
	g_assert_cmpuint(status, ==, 200);
	jobs = json_object_get_array_member(json_node_get_object(node), "jobs");
	for (guint i = 0; i < json_array_get_length(jobs); i++) {
		JsonObject *job = json_array_get_object_element(jobs, i);
		const char *job_status = json_object_get_string_member(job, "status");

		if (g_str_equal(job_status, "queued") || g_str_equal(job_status, "running"))
			return FALSE;
	}
	return TRUE;
}

/**
 * sl_daemon_fixture_wait_for_jobs:
 * @fx: the fixture
 *
 * Waits until no job is queued or running, e.g. the start-up scans.
 */
void
sl_daemon_fixture_wait_for_jobs(SlDaemonFixture *fx)
{
	g_assert_true(sl_daemon_fixture_wait(fx, jobs_settled, NULL));
}

/**
 * sl_daemon_fixture_start:
 * @fx: the fixture
 *
 * Starts stdiolinkd with `--port=0`, reads the URL it prints once it listens and, unless
 * @fx->no_wait_for_jobs is set, waits for its start-up scans to end.
 */
void
sl_daemon_fixture_start(SlDaemonFixture *fx)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GDataInputStream) out = NULL;
	g_autofree char *data_root_arg = g_strconcat("--data-root=", fx->root, NULL);
	g_autofree char *line = NULL;
	const char *marker = "listening on ";
	g_autoptr(GSubprocessLauncher) launcher =
	    g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE);
	char *url;

	g_subprocess_launcher_set_child_setup(launcher, daemon_child_setup, fx, NULL);
	for (guint i = 0; i < fx->env->len; i++) {
		g_auto(GStrv) pair = g_strsplit(fx->env->pdata[i], "=", 2);

		g_subprocess_launcher_setenv(launcher, pair[0], pair[1], TRUE);
	}
	if (fx->listen_fd >= 0) {
		/* LISTEN_PID must name the daemon: the shell's pid survives its exec */
		g_subprocess_launcher_take_fd(launcher, dup(fx->listen_fd), 3);
		g_subprocess_launcher_setenv(launcher, "LISTEN_FDS", "1", TRUE);
		fx->daemon = g_subprocess_launcher_spawn(
		    launcher, &error, "/bin/sh", "-c", "LISTEN_PID=$$ exec \"$0\" \"$@\"",
		    daemon_path(), data_root_arg, "--log-level=debug", NULL);
	} else {
		fx->daemon = g_subprocess_launcher_spawn(launcher, &error, daemon_path(),
							 data_root_arg, "--port=0",
							 "--log-level=debug", NULL);
	}
	g_assert_no_error(error);

	/* a blocking read is fine in a test: the daemon prints this line or dies */
	out = g_data_input_stream_new(g_subprocess_get_stdout_pipe(fx->daemon));
	line = g_data_input_stream_read_line(out, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_nonnull(line);
	url = strstr(line, marker);
	g_assert_nonnull(url);
	g_free(fx->base_url);
	fx->base_url = g_strdup(url + strlen(marker));

	if (!fx->no_wait_for_jobs)
		sl_daemon_fixture_wait_for_jobs(fx);
}

/**
 * sl_daemon_fixture_stop:
 * @fx: the fixture
 *
 * Sends SIGTERM and waits for the daemon to exit; it must exit 0.
 */
void
sl_daemon_fixture_stop(SlDaemonFixture *fx)
{
	g_autoptr(GError) error = NULL;

	if (fx->daemon == NULL)
		return;
	g_subprocess_send_signal(fx->daemon, SIGTERM);
	g_subprocess_wait(fx->daemon, NULL, &error);
	g_assert_no_error(error);
	g_assert_true(g_subprocess_get_if_exited(fx->daemon));
	g_assert_cmpint(g_subprocess_get_exit_status(fx->daemon), ==, 0);
	g_clear_object(&fx->daemon);
}

/**
 * sl_daemon_fixture_clear:
 * @fx: the fixture
 *
 * Stops the daemon if it still runs and removes the data root.
 */
void
sl_daemon_fixture_clear(SlDaemonFixture *fx)
{
	sl_daemon_fixture_stop(fx);
	sl_test_remove_tree(fx->root);
	g_clear_object(&fx->session);
	g_clear_pointer(&fx->env, g_ptr_array_unref);
	g_clear_pointer(&fx->root, g_free);
	g_clear_pointer(&fx->base_url, g_free);
}

char *
sl_daemon_fixture_path(SlDaemonFixture *fx, const char *relative)
{
	return g_build_filename(fx->root, relative, NULL);
}

void
sl_daemon_fixture_write(SlDaemonFixture *fx, const char *relative, const char *contents)
{
	sl_test_write_file(fx->root, relative, contents, 0644);
}

/**
 * sl_daemon_fixture_add_test_service:
 * @fx: the fixture
 * @id: the service id
 * @schema: the text of its config.schema.json
 *
 * A native service whose entry is a copy of the sl-test-service program, which does what
 * its configuration says (sleep, exit code, ignore SIGTERM, spawn a child...).
 */
void
sl_daemon_fixture_add_test_service(SlDaemonFixture *fx, const char *id, const char *schema)
{
	g_autofree char *manifest = g_strdup_printf(
	    "{\"manifestVersion\":\"1\",\"id\":\"%s\",\"name\":\"Test %s\",\"version\":\"1.0\","
	    "\"runtime\":\"exec\",\"entry\":\"run\"}",
	    id, id);
	g_autofree char *dir = g_build_filename(fx->root, "services", id, NULL);
	g_autofree char *entry = g_build_filename(dir, "run", NULL);
	g_autofree char *rel_manifest = g_build_filename("services", id, "manifest.json", NULL);
	g_autofree char *rel_schema = g_build_filename("services", id, "config.schema.json", NULL);
	g_autoptr(GFile) src = g_file_new_for_path(g_getenv("SL_TEST_SERVICE"));
	g_autoptr(GFile) dst = g_file_new_for_path(entry);
	g_autoptr(GError) error = NULL;

	sl_daemon_fixture_write(fx, rel_manifest, manifest);
	sl_daemon_fixture_write(fx, rel_schema, schema);
	g_file_copy(src, dst, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(entry, 0755), ==, 0);
}

void
sl_daemon_fixture_add_project(SlDaemonFixture *fx,
			      const char *id,
			      const char *service_id,
			      const char *schedule,
			      const char *params)
{
	g_autofree char *config = g_strdup_printf(
	    "{\"id\":\"%s\",\"name\":\"Project %s\",\"serviceId\":\"%s\",\"enabled\":true,"
	    "\"schedule\":%s}",
	    id, id, service_id, schedule != NULL ? schedule : "{\"type\":\"manual\"}");
	g_autofree char *rel_config = g_build_filename("projects", id, "config.json", NULL);
	g_autofree char *rel_params = g_build_filename("projects", id, "param.json", NULL);

	sl_daemon_fixture_write(fx, rel_config, config);
	sl_daemon_fixture_write(fx, rel_params, params != NULL ? params : "{}");
}

/**
 * sl_daemon_fixture_request_full:
 * @fx: the fixture
 * @msg: a prepared message (custom headers allowed)
 * @body: (nullable): the request body
 * @status: (out): the HTTP status
 *
 * Returns: (transfer full) (nullable): the parsed JSON body, %NULL when empty
 */
JsonNode *
sl_daemon_fixture_request_full(SlDaemonFixture *fx,
			       SoupMessage *msg,
			       const char *body,
			       guint *status)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GBytes) reply = NULL;
	gsize length = 0;
	const char *data;

	if (body != NULL) {
		g_autoptr(GBytes) bytes = g_bytes_new(body, strlen(body));

		soup_message_set_request_body_from_bytes(msg, "application/json", bytes);
	}
	reply = soup_session_send_and_read(fx->session, msg, NULL, &error);
	g_assert_no_error(error);
	*status = soup_message_get_status(msg);
	data = g_bytes_get_data(reply, &length);
	if (length == 0)
		return NULL;
	return stdiolink_json_parse(data, (gssize)length, NULL);
}

/**
 * sl_daemon_fixture_request:
 * @fx: the fixture
 * @method: the HTTP method
 * @path: the path and query, e.g. `/api/projects?page=2`
 * @body: (nullable): the request body
 * @status: (out): the HTTP status
 *
 * Returns: (transfer full) (nullable): the parsed JSON body
 */
JsonNode *
sl_daemon_fixture_request(SlDaemonFixture *fx,
			  const char *method,
			  const char *path,
			  const char *body,
			  guint *status)
{
	g_autofree char *url = g_strconcat(fx->base_url, path, NULL);
	g_autoptr(SoupMessage) msg = soup_message_new(method, url);

	g_assert_nonnull(msg);
	return sl_daemon_fixture_request_full(fx, msg, body, status);
}

/**
 * sl_daemon_fixture_assert_error:
 * @node: an error body
 * @code: the expected `code`
 * @message: (nullable): the expected `error` text, or %NULL to skip that check
 */
void
sl_daemon_fixture_assert_error(JsonNode *node, const char *code, const char *message)
{
	JsonObject *object;

	g_assert_nonnull(node);
	object = json_node_get_object(node);
	g_assert_cmpstr(stdiolink_json_object_get_string(object, "code"), ==, code);
	g_assert_nonnull(stdiolink_json_object_get_string(object, "error"));
	if (message != NULL)
		g_assert_cmpstr(stdiolink_json_object_get_string(object, "error"), ==, message);
}

/**
 * sl_daemon_fixture_wait:
 * @fx: the fixture
 * @func: the condition
 * @data: for @func
 *
 * Polls @func until it holds, for at most 20 s: tests assert that something happens, not
 * how fast.
 *
 * Returns: %TRUE if the condition held in time
 */
gboolean
sl_daemon_fixture_wait(SlDaemonFixture *fx, SlConditionFunc func, gpointer data)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_LIMIT_US;

	while (g_get_monotonic_time() < deadline) {
		if (func(fx, data))
			return TRUE;
		g_usleep(WAIT_STEP_US);
	}
	return func(fx, data);
}

/**
 * sl_daemon_fixture_count_instances:
 * @fx: the fixture
 * @project_id: (nullable): a project, or %NULL for all
 *
 * Returns: how many live instances `GET /api/instances` lists
 */
guint
sl_daemon_fixture_count_instances(SlDaemonFixture *fx, const char *project_id)
{
	g_autofree char *path = g_strdup_printf("/api/instances%s%s",
						project_id != NULL ? "?projectId=" : "",
						project_id != NULL ? project_id : "");
	guint status = 0;
	g_autoptr(JsonNode) node = sl_daemon_fixture_request(fx, "GET", path, NULL, &status);

	g_assert_cmpuint(status, ==, 200);
	return json_array_get_length(
	    json_object_get_array_member(json_node_get_object(node), "instances"));
}

/**
 * sl_daemon_fixture_read_events:
 * @fx: the fixture
 * @instance_id: (nullable): keep only this instance's events
 *
 * Reads logs/events.jsonl, where the daemon records every event it publishes.
 *
 * Returns: (transfer full) (element-type utf8): the event types, oldest first
 */
GPtrArray *
sl_daemon_fixture_read_events(SlDaemonFixture *fx, const char *instance_id)
{
	g_autofree char *path = sl_daemon_fixture_path(fx, "logs/events.jsonl");
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GPtrArray *types = g_ptr_array_new_with_free_func(g_free);

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return types;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		g_autoptr(JsonNode) node = NULL;
		JsonObject *data;

		if (*lines[i] == '\0')
			continue;
		node = stdiolink_json_parse(lines[i], -1, NULL);
		g_assert_nonnull(node);
		data = stdiolink_json_object_get_object(json_node_get_object(node), "data");
		if (instance_id != NULL && g_strcmp0(stdiolink_json_object_get_string(
						       data, "instanceId"), instance_id) != 0)
			continue;
		g_ptr_array_add(types, g_strdup(stdiolink_json_object_get_string(
					   json_node_get_object(node), "type")));
	}
	return types;
}

/**
 * sl_daemon_fixture_pid_alive:
 * @pid: a process id
 *
 * Returns: %TRUE if a process with @pid exists and is not a zombie
 */
gboolean
sl_daemon_fixture_pid_alive(GPid pid)
{
	return !sl_test_process_gone(pid);
}

/* ---- a request held in a thread of its own ------------------------------------------ */

static gpointer
held_request_thread(gpointer data)
{
	SlHeldRequest *held = data;
	g_autoptr(SoupSession) session = sl_daemon_fixture_new_session();
	g_autoptr(SoupMessage) msg = soup_message_new(held->method, held->url);
	g_autoptr(GBytes) reply = NULL;
	g_autoptr(GError) error = NULL;
	gsize length = 0;
	const char *text;

	if (held->body != NULL) {
		g_autoptr(GBytes) body = g_bytes_new(held->body, strlen(held->body));

		soup_message_set_request_body_from_bytes(msg, "application/json", body);
	}
	reply = soup_session_send_and_read(session, msg, NULL, &error);
	g_assert_no_error(error);
	held->status = soup_message_get_status(msg);
	text = g_bytes_get_data(reply, &length);
	held->reply = length > 0 ? stdiolink_json_parse(text, (gssize)length, NULL) : NULL;
	g_atomic_int_set(&held->done, 1);
	return NULL;
}

/**
 * sl_held_request_start:
 * @held: zero-filled
 * @fx: the fixture, started
 * @method: the HTTP method
 * @path: the path and query
 * @body: (nullable): a JSON body
 *
 * Sends the request from a new thread, so that the test can act while the daemon holds the
 * answer; @held->done turns 1 once it is in.
 */
void
sl_held_request_start(SlHeldRequest *held,
		      SlDaemonFixture *fx,
		      const char *method,
		      const char *path,
		      const char *body)
{
	held->method = g_strdup(method);
	held->url = g_strconcat(fx->base_url, path, NULL);
	held->body = g_strdup(body);
	held->thread = g_thread_new("held-request", held_request_thread, held);
}

/* waits for the answer: @held->status and @held->reply (NULL for an empty body) are set */
void
sl_held_request_join(SlHeldRequest *held)
{
	g_thread_join(g_steal_pointer(&held->thread));
}

void
sl_held_request_clear(SlHeldRequest *held)
{
	g_assert_null(held->thread);
	g_free(held->method);
	g_free(held->url);
	g_free(held->body);
	g_clear_pointer(&held->reply, json_node_unref);
}

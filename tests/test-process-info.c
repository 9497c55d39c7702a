#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

/* /proc reading (http-api.md 6.5, 6.6) on real process trees this test forks */

#define WAIT_LIMIT_US (10 * G_USEC_PER_SEC)

enum { ROLE_ROOT, ROLE_A, ROLE_B, ROLE_G, N_ROLES };

typedef struct {
	int role;
	int pid;
} Record;

/* root -> {a -> {g}, b}; all in the root's process group */
typedef struct {
	pid_t pids[N_ROLES];
} Tree;

static void
sleep_forever(void)
{
	for (;;)
		pause();
}

/* runs in a forked child of a threaded process: async-signal-safe calls only */
static void
child_report(int fd, int role, const char *name)
{
	Record record = {role, getpid()};

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, name);
	if (write(fd, &record, sizeof(record)) != sizeof(record))
		_exit(3);
}

static void
run_root(int fd, gboolean grandchild_exits)
{
	setpgid(0, 0);
	child_report(fd, ROLE_ROOT, "sl-root");
	if (fork() == 0) {
		child_report(fd, ROLE_A, "sl-child-a");
		if (fork() == 0) {
			child_report(fd, ROLE_G, "sl-grandchild");
			if (grandchild_exits)
				_exit(0);
			sleep_forever();
		}
		sleep_forever();
	}
	if (fork() == 0) {
		child_report(fd, ROLE_B, "sl-child-b");
		sleep_forever();
	}
	sleep_forever();
}

static void
spawn_tree(Tree *tree, gboolean grandchild_exits)
{
	int fds[2];
	pid_t root;

	g_assert_cmpint(pipe(fds), ==, 0);
	root = fork();
	g_assert_cmpint(root, >=, 0);
	if (root == 0) {
		close(fds[0]);
		run_root(fds[1], grandchild_exits);
	}
	close(fds[1]);

	/* each process reports once it is named, so all four exist after the fourth record */
	for (guint i = 0; i < N_ROLES; i++) {
		Record record;

		g_assert_cmpint(read(fds[0], &record, sizeof(record)), ==, sizeof(record));
		g_assert_cmpint(record.role, <, N_ROLES);
		tree->pids[record.role] = record.pid;
	}
	close(fds[0]);
}

static void
kill_tree(Tree *tree)
{
	kill(-tree->pids[ROLE_ROOT], SIGKILL);
	g_assert_cmpint(waitpid(tree->pids[ROLE_ROOT], NULL, 0), ==, tree->pids[ROLE_ROOT]);
}

/* polls /proc until @pid has @status (and @name, if given) */
static gboolean
process_becomes(gint pid, const char *status, const char *name)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_LIMIT_US;

	while (g_get_monotonic_time() < deadline) {
		g_autoptr(StdiolinkProcessInfo) info = stdiolink_process_info_read(pid);

		if (g_str_equal(info->status, status) &&
		    (name == NULL || g_str_equal(info->name, name)))
			return TRUE;
		g_usleep(10 * 1000);
	}
	return FALSE;
}

static gboolean
status_becomes(gint pid, const char *status)
{
	return process_becomes(pid, status, NULL);
}

/* all four have reached pause(): their states no longer change */
static void
wait_settled(Tree *tree)
{
	for (guint i = 0; i < N_ROLES; i++)
		g_assert_true(status_becomes(tree->pids[i], "sleeping"));
}

static StdiolinkProcessInfo *
child_at(StdiolinkProcessInfo *info, guint i)
{
	g_assert_cmpuint(info->children->len, >, i);
	return g_ptr_array_index(info->children, i);
}

static void
test_self_func(void)
{
	g_autoptr(StdiolinkProcessInfo) info = stdiolink_process_info_read(getpid());

	g_assert_cmpint(info->pid, ==, getpid());
	g_assert_cmpint(info->parent_pid, ==, getppid());
	g_assert_cmpstr(info->status, ==, "running");
	g_assert_cmpstr(info->name, !=, "");
	g_assert_nonnull(strstr(info->command_line, "test-process-info"));
	g_assert_cmpint(info->thread_count, >=, 1);
	g_assert_cmpint(info->memory_rss_bytes, >, 0);
	g_assert_cmpint(info->memory_vms_bytes, >=, info->memory_rss_bytes);
	g_assert_cmpint(info->uptime_seconds, >=, 0);
	g_assert_nonnull(info->started_at);
	g_assert_true(g_str_has_suffix(info->started_at, "Z"));
	g_assert_cmpint(info->io_read_bytes, >=, 0);
	g_assert_cmpint(info->io_write_bytes, >=, 0);
	g_assert_cmpuint(info->children->len, ==, 0);
}

static gint
compare_ints(gconstpointer a, gconstpointer b)
{
	return *(const gint *)a - *(const gint *)b;
}

static void
assert_pids(GArray *pids, gint first, gint second)
{
	gint expected[2] = {MIN(first, second), MAX(first, second)};

	g_array_sort(pids, compare_ints);
	g_assert_cmpuint(pids->len, ==, 2);
	g_assert_cmpint(g_array_index(pids, gint, 0), ==, expected[0]);
	g_assert_cmpint(g_array_index(pids, gint, 1), ==, expected[1]);
}

static void
test_tree_func(void)
{
	Tree tree;
	g_autoptr(StdiolinkProcessInfo) info = NULL;
	g_autoptr(GArray) listed = NULL;
	g_autoptr(GArray) scanned = NULL;
	StdiolinkProcessInfo *a, *b, *g;

	spawn_tree(&tree, FALSE);
	wait_settled(&tree);
	info = stdiolink_process_info_read_tree(tree.pids[ROLE_ROOT]);

	g_assert_cmpint(info->pid, ==, tree.pids[ROLE_ROOT]);
	g_assert_cmpint(info->parent_pid, ==, getpid());
	g_assert_cmpstr(info->name, ==, "sl-root");
	g_assert_cmpstr(info->status, ==, "sleeping");
	g_assert_cmpint(info->thread_count, ==, 1);

	/* children in the order they were forked */
	g_assert_cmpuint(info->children->len, ==, 2);
	a = child_at(info, 0);
	b = child_at(info, 1);
	g_assert_cmpint(a->pid, ==, tree.pids[ROLE_A]);
	g_assert_cmpstr(a->name, ==, "sl-child-a");
	g_assert_cmpint(a->parent_pid, ==, tree.pids[ROLE_ROOT]);
	g_assert_cmpint(b->pid, ==, tree.pids[ROLE_B]);
	g_assert_cmpstr(b->name, ==, "sl-child-b");
	g_assert_cmpuint(b->children->len, ==, 0);
	g = child_at(a, 0);
	g_assert_cmpint(g->pid, ==, tree.pids[ROLE_G]);
	g_assert_cmpstr(g->name, ==, "sl-grandchild");
	g_assert_cmpint(g->parent_pid, ==, tree.pids[ROLE_A]);
	g_assert_nonnull(strstr(g->command_line, "test-process-info"));

	/* the children file and the /proc scan agree */
	listed = stdiolink_process_info_list_children(tree.pids[ROLE_ROOT]);
	scanned = stdiolink_process_info_scan_children(tree.pids[ROLE_ROOT]);
	assert_pids(listed, tree.pids[ROLE_A], tree.pids[ROLE_B]);
	assert_pids(scanned, tree.pids[ROLE_A], tree.pids[ROLE_B]);

	kill_tree(&tree);
}

static void
test_states_func(void)
{
	Tree tree;
	g_autoptr(StdiolinkProcessInfo) zombie = NULL;

	/* the grandchild exits and its parent never reaps it */
	spawn_tree(&tree, TRUE);
	g_assert_true(status_becomes(tree.pids[ROLE_G], "zombie"));
	zombie = stdiolink_process_info_read(tree.pids[ROLE_G]);
	g_assert_cmpstr(zombie->name, ==, "sl-grandchild");
	g_assert_cmpstr(zombie->command_line, ==, "");

	g_assert_cmpint(kill(tree.pids[ROLE_B], SIGSTOP), ==, 0);
	g_assert_true(status_becomes(tree.pids[ROLE_B], "stopped"));
	g_assert_true(status_becomes(tree.pids[ROLE_A], "sleeping"));

	kill_tree(&tree);
}

static void
test_unreadable_func(void)
{
	g_autoptr(StdiolinkProcessInfo) info = stdiolink_process_info_read_tree(G_MAXINT);

	g_assert_cmpint(info->pid, ==, G_MAXINT);
	g_assert_cmpstr(info->status, ==, "unknown");
	g_assert_cmpstr(info->name, ==, "");
	g_assert_cmpstr(info->command_line, ==, "");
	g_assert_null(info->started_at);
	g_assert_cmpint(info->parent_pid, ==, 0);
	g_assert_cmpint(info->memory_rss_bytes, ==, 0);
	g_assert_cmpint(info->memory_vms_bytes, ==, 0);
	g_assert_cmpint(info->thread_count, ==, 0);
	g_assert_cmpint(info->uptime_seconds, ==, 0);
	g_assert_cmpint(info->io_read_bytes, ==, 0);
	g_assert_cmpuint(info->children->len, ==, 0);
}

static void
test_json_func(void)
{
	Tree tree;
	g_autoptr(StdiolinkProcessInfo) info = NULL;
	g_autoptr(JsonNode) tree_node = NULL;
	g_autoptr(JsonNode) res_node = NULL;
	JsonObject *root, *node, *resources, *summary;
	JsonArray *processes;
	const gint order[] = {ROLE_ROOT, ROLE_A, ROLE_G, ROLE_B};
	const gint parents[] = {0, ROLE_ROOT, ROLE_A, ROLE_ROOT};

	spawn_tree(&tree, FALSE);
	wait_settled(&tree);
	info = stdiolink_process_info_read_tree(tree.pids[ROLE_ROOT]);

	tree_node = stdiolink_process_info_tree_to_json(info, "inst_1");
	root = json_node_get_object(tree_node);
	g_assert_cmpstr(json_object_get_string_member(root, "instanceId"), ==, "inst_1");
	g_assert_cmpint(json_object_get_int_member(root, "rootPid"), ==, tree.pids[ROLE_ROOT]);
	node = json_object_get_object_member(root, "tree");
	g_assert_cmpstr(json_object_get_string_member(node, "name"), ==, "sl-root");
	g_assert_true(json_object_has_member(node, "commandLine"));
	g_assert_true(json_object_has_member(node, "startedAt"));
	g_assert_cmpstr(json_object_get_string_member(node, "status"), ==, "sleeping");
	resources = json_object_get_object_member(node, "resources");
	g_assert_cmpint(json_object_get_int_member(resources, "threadCount"), ==, 1);
	g_assert_true(json_object_has_member(resources, "cpuPercent"));
	g_assert_true(json_object_has_member(resources, "memoryRssBytes"));
	g_assert_true(json_object_has_member(resources, "memoryVmsBytes"));
	g_assert_true(json_object_has_member(resources, "uptimeSeconds"));
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(node, "children")),
			 ==, 2);
	summary = json_object_get_object_member(root, "summary");
	g_assert_cmpint(json_object_get_int_member(summary, "totalProcesses"), ==, 4);
	g_assert_cmpint(json_object_get_int_member(summary, "totalThreads"), ==, 4);
	g_assert_cmpint(json_object_get_int_member(summary, "totalMemoryRssBytes"), >, 0);
	g_assert_true(json_object_has_member(summary, "totalCpuPercent"));

	/* root first, then depth-first */
	res_node = stdiolink_process_info_resources_to_json(info, "inst_1");
	root = json_node_get_object(res_node);
	g_assert_true(g_str_has_suffix(json_object_get_string_member(root, "timestamp"), "Z"));
	processes = json_object_get_array_member(root, "processes");
	g_assert_cmpuint(json_array_get_length(processes), ==, 4);
	for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
		JsonObject *proc = json_array_get_object_element(processes, i);
		gint parent = i == 0 ? getpid() : tree.pids[parents[i]];

		g_assert_cmpint(json_object_get_int_member(proc, "pid"), ==, tree.pids[order[i]]);
		g_assert_cmpint(json_object_get_int_member(proc, "parentPid"), ==, parent);
		g_assert_true(json_object_has_member(proc, "ioReadBytes"));
		g_assert_true(json_object_has_member(proc, "ioWriteBytes"));
		g_assert_true(json_object_has_member(proc, "memoryRssBytes"));
	}
	summary = json_object_get_object_member(root, "summary");
	g_assert_cmpint(json_object_get_int_member(summary, "totalProcesses"), ==, 4);

	kill_tree(&tree);
}

/* ---- the monitor -------------------------------------------------------------------------- */

static void
done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	*(GAsyncResult **)user_data = g_object_ref(res);
}

static StdiolinkProcessInfo *
query(StdiolinkProcessMonitor *monitor, gint pid, gboolean include_children)
{
	GAsyncResult *res = NULL;
	g_autoptr(GError) error = NULL;
	StdiolinkProcessInfo *info;

	stdiolink_process_monitor_query_async(monitor, pid, include_children, NULL, done_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	info = stdiolink_process_monitor_query_finish(monitor, res, &error);
	g_object_unref(res);
	g_assert_no_error(error);
	g_assert_nonnull(info);
	return info;
}

static pid_t
spawn_busy(void)
{
	pid_t pid = fork();

	g_assert_cmpint(pid, >=, 0);
	if (pid == 0) {
		volatile guint64 n = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			n++;
	}
	return pid;
}

static void
test_monitor_func(void)
{
	g_autoptr(StdiolinkProcessMonitor) monitor = stdiolink_process_monitor_new();
	pid_t busy = spawn_busy();
	StdiolinkProcessInfo *info;

	/* the first sample of a pid has nothing to compare with */
	info = query(monitor, busy, TRUE);
	g_assert_cmpfloat(info->cpu_percent, ==, 0.0);
	stdiolink_process_info_free(info);

	g_usleep(300 * 1000);
	info = query(monitor, busy, FALSE);
	g_assert_cmpfloat(info->cpu_percent, >, 0.0);
	g_assert_cmpuint(info->children->len, ==, 0);
	stdiolink_process_info_free(info);

	/* another query keeps only its own pids: the next reading starts over */
	info = query(monitor, getpid(), FALSE);
	stdiolink_process_info_free(info);
	info = query(monitor, busy, FALSE);
	g_assert_cmpfloat(info->cpu_percent, ==, 0.0);
	stdiolink_process_info_free(info);

	kill(busy, SIGKILL);
	g_assert_cmpint(waitpid(busy, NULL, 0), ==, busy);
}

/* ---- through the engine ------------------------------------------------------------------ */

typedef struct {
	char *root;
	StdiolinkEngine *engine;
} EngineFixture;

static void
engine_wait(GAsyncResult **res)
{
	while (*res == NULL)
		g_main_context_iteration(NULL, TRUE);
}

static void
engine_fixture_setup(EngineFixture *fx)
{
	g_autoptr(StdiolinkServerConfig) config = stdiolink_server_config_new_default();
	GAsyncResult *res = NULL;
	g_autoptr(GError) error = NULL;

	fx->root = sl_test_make_tmp_dir("process-info-XXXXXX");
	sl_test_write_file(fx->root, "services/sleepy/manifest.json",
			   "{\"manifestVersion\":\"1\",\"id\":\"sleepy\",\"name\":\"Sleepy\","
			   "\"version\":\"1.0\",\"runtime\":\"exec\",\"entry\":\"run\"}",
			   0644);
	sl_test_write_file(fx->root, "services/sleepy/config.schema.json", "{}", 0644);
	sl_test_write_file(fx->root, "services/sleepy/run", "#!/bin/sh\nexec sleep 60\n", 0755);
	sl_test_write_file(fx->root, "projects/p1/config.json",
			   "{\"id\":\"p1\",\"name\":\"P1\",\"serviceId\":\"sleepy\","
			   "\"enabled\":true,\"schedule\":{\"type\":\"manual\"}}",
			   0644);
	sl_test_write_file(fx->root, "projects/p1/param.json", "{}", 0644);

	fx->engine = stdiolink_engine_new(fx->root, config, NULL);
	stdiolink_engine_load_async(fx->engine, NULL, done_cb, &res);
	engine_wait(&res);
	g_assert_true(stdiolink_engine_load_finish(fx->engine, res, &error));
	g_assert_no_error(error);
	g_object_unref(res);
}

static void
engine_fixture_teardown(EngineFixture *fx)
{
	GAsyncResult *res = NULL;
	StdiolinkEventBus *bus = stdiolink_engine_get_event_bus(fx->engine);

	stdiolink_engine_shutdown_async(fx->engine, NULL, done_cb, &res);
	engine_wait(&res);
	g_assert_true(stdiolink_engine_shutdown_finish(fx->engine, res, NULL));
	g_clear_object(&res);

	stdiolink_event_bus_flush_async(bus, NULL, done_cb, &res);
	engine_wait(&res);
	g_assert_true(stdiolink_event_bus_flush_finish(bus, res, NULL));
	g_clear_object(&res);

	g_clear_object(&fx->engine);
	sl_test_remove_tree(fx->root);
	g_free(fx->root);
}

static JsonNode *
observe_tree(StdiolinkEngine *engine, const char *id, GError **error)
{
	GAsyncResult *res = NULL;
	JsonNode *node;

	stdiolink_engine_get_process_tree_async(engine, id, NULL, done_cb, &res);
	engine_wait(&res);
	node = stdiolink_engine_observe_finish(engine, res, error);
	g_object_unref(res);
	return node;
}

static JsonNode *
observe_resources(StdiolinkEngine *engine, const char *id, gboolean children, GError **error)
{
	GAsyncResult *res = NULL;
	JsonNode *node;

	stdiolink_engine_get_resources_async(engine, id, children, NULL, done_cb, &res);
	engine_wait(&res);
	node = stdiolink_engine_observe_finish(engine, res, error);
	g_object_unref(res);
	return node;
}

static void
test_engine_routes_func(void)
{
	EngineFixture fx;
	StdiolinkInstanceManager *im;
	StdiolinkInstance *instance;
	g_autoptr(JsonNode) started = NULL;
	g_autoptr(JsonNode) tree = NULL;
	g_autoptr(JsonNode) resources = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *id = NULL;
	JsonNode *none;
	gint64 deadline;

	engine_fixture_setup(&fx);
	im = stdiolink_engine_get_instance_manager(fx.engine);

	none = observe_tree(fx.engine, "inst_nope", &error);
	g_assert_null(none);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "instance not found");
	g_clear_error(&error);

	/* until the start completes on the loop, the instance is starting, not running */
	started = stdiolink_engine_start_project(fx.engine, "p1", &error);
	g_assert_no_error(error);
	id = g_strdup(json_object_get_string_member(json_node_get_object(started), "instanceId"));
	none = observe_resources(fx.engine, id, TRUE, &error);
	g_assert_null(none);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "instance not running");
	g_clear_error(&error);

	deadline = g_get_monotonic_time() + WAIT_LIMIT_US;
	instance = stdiolink_instance_manager_lookup(im, id);
	while (stdiolink_instance_get_state(instance) != STDIOLINK_INSTANCE_RUNNING &&
	       g_get_monotonic_time() < deadline)
		g_main_context_iteration(NULL, FALSE);
	g_assert_cmpint(stdiolink_instance_get_state(instance), ==, STDIOLINK_INSTANCE_RUNNING);
	g_assert_true(process_becomes(stdiolink_instance_get_pid(instance), "sleeping", "sleep"));

	tree = observe_tree(fx.engine, id, &error);
	g_assert_no_error(error);
	g_assert_cmpint(json_object_get_int_member(json_node_get_object(tree), "rootPid"), ==,
			stdiolink_instance_get_pid(instance));
	g_assert_cmpstr(json_object_get_string_member(
			    json_object_get_object_member(json_node_get_object(tree), "tree"),
			    "name"),
			==, "sleep");

	resources = observe_resources(fx.engine, id, FALSE, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(json_array_get_length(json_object_get_array_member(
			     json_node_get_object(resources), "processes")),
			 ==, 1);

	engine_fixture_teardown(&fx);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/process-info/self", test_self_func);
	g_test_add_func("/process-info/tree", test_tree_func);
	g_test_add_func("/process-info/states", test_states_func);
	g_test_add_func("/process-info/unreadable", test_unreadable_func);
	g_test_add_func("/process-info/json", test_json_func);
	g_test_add_func("/process-info/monitor", test_monitor_func);
	g_test_add_func("/process-info/engine-routes", test_engine_routes_func);
	return g_test_run();
}

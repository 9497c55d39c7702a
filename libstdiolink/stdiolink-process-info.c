#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stdiolink-json.h"
#include "stdiolink-process-info.h"
#include "stdiolink-util.h"

/*
 * What /proc says about an instance's process tree (http-api.md 6.5, 6.6). The readers are
 * plain functions that block on /proc and touch no shared state; the monitor runs them in a
 * worker thread and keeps, on its own thread, the CPU samples that turn two readings into a
 * percentage.
 */

/* a tree deeper than this is a loop of reused pids, not a real process tree */
#define MAX_TREE_DEPTH 64

/* fields of /proc/<pid>/stat, counted from 1 as proc(5) does */
#define STAT_STATE	 3
#define STAT_PPID	 4
#define STAT_UTIME	 14
#define STAT_STIME	 15
#define STAT_NUM_THREADS 20
#define STAT_STARTTIME	 22
#define STAT_VSIZE	 23
#define STAT_RSS	 24

static char *
read_proc_file(gint pid, const char *name, gsize *length)
{
	g_autofree char *path = g_strdup_printf("/proc/%d/%s", pid, name);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, length, NULL))
		return NULL;
	return text;
}

static const char *
status_from_state(char state)
{
	switch (state) {
	case 'R':
		return "running";
	case 'S':
	case 'D':
		return "sleeping";
	case 'Z':
		return "zombie";
	case 'T':
		return "stopped";
	default:
		return "unknown";
	}
}

/* the fields after the command name, which may itself hold spaces and parentheses */
static char **
read_stat_fields(gint pid)
{
	g_autofree char *stat = read_proc_file(pid, "stat", NULL);
	char *close_paren = stat != NULL ? strrchr(stat, ')') : NULL;
	g_auto(GStrv) fields = NULL;

	if (close_paren == NULL || close_paren[1] != ' ')
		return NULL;
	fields = g_strsplit(g_strstrip(close_paren + 2), " ", -1);
	if (g_strv_length(fields) <= STAT_RSS - STAT_STATE)
		return NULL;
	return g_steal_pointer(&fields);
}

static guint64
stat_u64(char **fields, guint field)
{
	return g_ascii_strtoull(fields[field - STAT_STATE], NULL, 10);
}

static double
system_uptime_seconds(void)
{
	g_autofree char *text = NULL;

	if (!g_file_get_contents("/proc/uptime", &text, NULL, NULL))
		return 0;
	return g_ascii_strtod(text, NULL);
}

static void
read_stat(StdiolinkProcessInfo *info)
{
	g_auto(GStrv) fields = read_stat_fields(info->pid);
	long ticks_per_second = sysconf(_SC_CLK_TCK);
	long page_size = sysconf(_SC_PAGESIZE);
	double started;
	double uptime;

	if (fields == NULL || ticks_per_second <= 0)
		return;

	info->status = status_from_state(fields[0][0]);
	info->parent_pid = (gint)stat_u64(fields, STAT_PPID);
	info->cpu_ms = (stat_u64(fields, STAT_UTIME) + stat_u64(fields, STAT_STIME)) * 1000 /
		       (guint64)ticks_per_second;
	info->thread_count = (gint)stat_u64(fields, STAT_NUM_THREADS);
	info->start_ticks = stat_u64(fields, STAT_STARTTIME);
	info->memory_vms_bytes = (gint64)stat_u64(fields, STAT_VSIZE);
	info->memory_rss_bytes = (gint64)stat_u64(fields, STAT_RSS) * MAX(page_size, 0);

	started = (double)info->start_ticks / (double)ticks_per_second;
	uptime = system_uptime_seconds();
	if (uptime > 0 && uptime >= started) {
		g_autoptr(GDateTime) now = g_date_time_new_now_utc();
		g_autoptr(GDateTime) start = NULL;

		info->uptime_seconds = (gint64)(uptime - started);
		start = g_date_time_add_seconds(now, -(double)info->uptime_seconds);
		info->started_at = stdiolink_time_to_iso8601(start, FALSE);
	}
}

static void
read_io(StdiolinkProcessInfo *info)
{
	g_autofree char *text = read_proc_file(info->pid, "io", NULL);
	g_auto(GStrv) lines = NULL;

	if (text == NULL)
		return;
	lines = g_strsplit(text, "\n", -1);
	for (guint i = 0; lines[i] != NULL; i++) {
		if (g_str_has_prefix(lines[i], "read_bytes:"))
			info->io_read_bytes = g_ascii_strtoll(lines[i] + 11, NULL, 10);
		else if (g_str_has_prefix(lines[i], "write_bytes:"))
			info->io_write_bytes = g_ascii_strtoll(lines[i] + 12, NULL, 10);
	}
}

static char *
read_command_line(gint pid)
{
	gsize length = 0;
	g_autofree char *text = read_proc_file(pid, "cmdline", &length);

	if (text == NULL)
		return g_strdup("");

	/* arguments are NUL-separated */
	for (gsize i = 0; i < length; i++) {
		if (text[i] == '\0')
			text[i] = ' ';
	}
	return g_strstrip(g_utf8_make_valid(text, (gssize)length));
}

static char *
read_name(gint pid)
{
	g_autofree char *text = read_proc_file(pid, "comm", NULL);

	if (text == NULL)
		return g_strdup("");
	return g_strstrip(g_utf8_make_valid(text, -1));
}

/**
 * stdiolink_process_info_read: (skip)
 * @pid: a process id
 *
 * Reads one process from /proc; no children. CPU percentage is left at 0: it needs a
 * previous sample (see #StdiolinkProcessMonitor). Blocks on /proc.
 *
 * Returns: (transfer full): the process; status `unknown` and zeros if it cannot be read
 */
StdiolinkProcessInfo *
stdiolink_process_info_read(gint pid)
{
	StdiolinkProcessInfo *info = g_new0(StdiolinkProcessInfo, 1);

	info->pid = pid;
	info->status = "unknown";
	info->children =
	    g_ptr_array_new_with_free_func((GDestroyNotify)stdiolink_process_info_free);
	read_stat(info);
	if (g_str_equal(info->status, "unknown")) {
		info->name = g_strdup("");
		info->command_line = g_strdup("");
		return info;
	}
	info->name = read_name(pid);
	info->command_line = read_command_line(pid);
	read_io(info);
	return info;
}

static gint
compare_pids(gconstpointer a, gconstpointer b)
{
	gint pa = *(const gint *)a;
	gint pb = *(const gint *)b;

	return (pa > pb) - (pa < pb);
}

/**
 * stdiolink_process_info_scan_children:
 * @pid: a process id
 *
 * The slow way: reads the stat of every process and keeps those whose parent is @pid.
 *
 * Returns: (transfer full) (element-type gint): the children, by pid
 */
GArray *
stdiolink_process_info_scan_children(gint pid)
{
	GArray *children = g_array_new(FALSE, FALSE, sizeof(gint));
	g_autoptr(GDir) dir = g_dir_open("/proc", 0, NULL);
	const char *name;

	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_auto(GStrv) fields = NULL;
		char *end = NULL;
		gint64 candidate = g_ascii_strtoll(name, &end, 10);

		if (end == name || *end != '\0' || candidate <= 0 || candidate > G_MAXINT)
			continue;
		fields = read_stat_fields((gint)candidate);
		if (fields != NULL && (gint)stat_u64(fields, STAT_PPID) == pid) {
			gint child = (gint)candidate;

			g_array_append_val(children, child);
		}
	}
	g_array_sort(children, compare_pids);
	return children;
}

/**
 * stdiolink_process_info_list_children:
 * @pid: a process id
 *
 * Reads `/proc/<pid>/task/<pid>/children`; on kernels without it, falls back to
 * stdiolink_process_info_scan_children().
 *
 * Returns: (transfer full) (element-type gint): the children of @pid
 */
GArray *
stdiolink_process_info_list_children(gint pid)
{
	g_autofree char *name = g_strdup_printf("task/%d/children", pid);
	g_autofree char *text = read_proc_file(pid, name, NULL);
	g_auto(GStrv) parts = NULL;
	GArray *children;

	if (text == NULL)
		return stdiolink_process_info_scan_children(pid);

	children = g_array_new(FALSE, FALSE, sizeof(gint));
	parts = g_strsplit_set(g_strstrip(text), " \n", -1);
	for (guint i = 0; parts[i] != NULL; i++) {
		gint child = (gint)g_ascii_strtoll(parts[i], NULL, 10);

		if (child > 0)
			g_array_append_val(children, child);
	}
	return children;
}

static StdiolinkProcessInfo *
read_subtree(gint pid, guint depth, GHashTable *seen)
{
	StdiolinkProcessInfo *info = stdiolink_process_info_read(pid);
	g_autoptr(GArray) children = NULL;

	g_hash_table_add(seen, GINT_TO_POINTER(pid));
	if (depth >= MAX_TREE_DEPTH)
		return info;

	children = stdiolink_process_info_list_children(pid);
	for (guint i = 0; i < children->len; i++) {
		gint child = g_array_index(children, gint, i);

		if (!g_hash_table_contains(seen, GINT_TO_POINTER(child)))
			g_ptr_array_add(info->children, read_subtree(child, depth + 1, seen));
	}
	return info;
}

/**
 * stdiolink_process_info_read_tree: (skip)
 * @root_pid: the process at the top
 *
 * Reads @root_pid and all its descendants. Blocks on /proc.
 *
 * Returns: (transfer full): the root, with its children filled in
 */
StdiolinkProcessInfo *
stdiolink_process_info_read_tree(gint root_pid)
{
	g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);

	return read_subtree(root_pid, 0, seen);
}

/**
 * stdiolink_process_info_free:
 * @info: (nullable): a process and its children
 */
void
stdiolink_process_info_free(StdiolinkProcessInfo *info)
{
	if (info == NULL)
		return;
	g_free(info->name);
	g_free(info->command_line);
	g_free(info->started_at);
	g_ptr_array_unref(info->children);
	g_free(info);
}

/* ---- JSON --------------------------------------------------------------------------------- */

typedef struct {
	guint processes;
	double cpu_percent;
	gint64 rss_bytes;
	gint64 threads;
} Summary;

static void
summary_add(Summary *summary, const StdiolinkProcessInfo *info)
{
	summary->processes++;
	summary->cpu_percent += info->cpu_percent;
	summary->rss_bytes += info->memory_rss_bytes;
	summary->threads += info->thread_count;
}

static JsonObject *
summary_to_json(const Summary *summary)
{
	JsonObject *obj = json_object_new();

	json_object_set_int_member(obj, "totalProcesses", summary->processes);
	json_object_set_double_member(obj, "totalCpuPercent", summary->cpu_percent);
	json_object_set_int_member(obj, "totalMemoryRssBytes", summary->rss_bytes);
	json_object_set_int_member(obj, "totalThreads", summary->threads);
	return obj;
}

static void
set_identity(JsonObject *obj, const StdiolinkProcessInfo *info)
{
	json_object_set_int_member(obj, "pid", info->pid);
	json_object_set_string_member(obj, "name", info->name);
	json_object_set_string_member(obj, "commandLine", info->command_line);
	json_object_set_string_member(obj, "status", info->status);
	if (info->started_at != NULL)
		json_object_set_string_member(obj, "startedAt", info->started_at);
}

static void
set_usage(JsonObject *obj, const StdiolinkProcessInfo *info)
{
	json_object_set_double_member(obj, "cpuPercent", info->cpu_percent);
	json_object_set_int_member(obj, "memoryRssBytes", info->memory_rss_bytes);
	json_object_set_int_member(obj, "memoryVmsBytes", info->memory_vms_bytes);
	json_object_set_int_member(obj, "threadCount", info->thread_count);
	json_object_set_int_member(obj, "uptimeSeconds", info->uptime_seconds);
}

static JsonNode *
tree_node_to_json(const StdiolinkProcessInfo *info, Summary *summary)
{
	JsonObject *obj = json_object_new();
	JsonObject *resources = json_object_new();
	JsonArray *children = json_array_new();

	summary_add(summary, info);
	set_identity(obj, info);
	set_usage(resources, info);
	json_object_set_object_member(obj, "resources", resources);
	for (guint i = 0; i < info->children->len; i++)
		json_array_add_element(children,
				       tree_node_to_json(info->children->pdata[i], summary));
	json_object_set_array_member(obj, "children", children);
	return stdiolink_json_node_new_object(obj);
}

/**
 * stdiolink_process_info_tree_to_json:
 * @root: the instance's process, with its descendants
 * @instance_id: the instance
 *
 * Returns: (transfer full): `{"instanceId","rootPid","tree","summary"}` (http-api.md 6.5)
 */
JsonNode *
stdiolink_process_info_tree_to_json(const StdiolinkProcessInfo *root, const char *instance_id)
{
	JsonObject *obj = json_object_new();
	Summary summary = {0};
	JsonNode *tree = tree_node_to_json(root, &summary);

	json_object_set_string_member(obj, "instanceId", instance_id);
	json_object_set_int_member(obj, "rootPid", root->pid);
	json_object_set_member(obj, "tree", tree);
	json_object_set_object_member(obj, "summary", summary_to_json(&summary));
	return stdiolink_json_node_new_object(obj);
}

/* root first, then each child's subtree in turn */
static void
flatten(const StdiolinkProcessInfo *info, JsonArray *out, Summary *summary)
{
	JsonObject *obj = json_object_new();

	summary_add(summary, info);
	json_object_set_int_member(obj, "pid", info->pid);
	json_object_set_int_member(obj, "parentPid", info->parent_pid);
	set_identity(obj, info);
	set_usage(obj, info);
	json_object_set_int_member(obj, "ioReadBytes", info->io_read_bytes);
	json_object_set_int_member(obj, "ioWriteBytes", info->io_write_bytes);
	json_array_add_object_element(out, obj);
	for (guint i = 0; i < info->children->len; i++)
		flatten(info->children->pdata[i], out, summary);
}

/**
 * stdiolink_process_info_resources_to_json:
 * @root: the instance's process, with the descendants to report
 * @instance_id: the instance
 *
 * Returns: (transfer full): `{"instanceId","timestamp","processes","summary"}`
 *   (http-api.md 6.6), the processes root first, then depth-first
 */
JsonNode *
stdiolink_process_info_resources_to_json(const StdiolinkProcessInfo *root,
					 const char *instance_id)
{
	JsonObject *obj = json_object_new();
	JsonArray *processes = json_array_new();
	g_autofree char *now = stdiolink_now_iso8601(FALSE);
	Summary summary = {0};

	flatten(root, processes, &summary);
	json_object_set_string_member(obj, "instanceId", instance_id);
	json_object_set_string_member(obj, "timestamp", now);
	json_object_set_array_member(obj, "processes", processes);
	json_object_set_object_member(obj, "summary", summary_to_json(&summary));
	return stdiolink_json_node_new_object(obj);
}

/* ---- the monitor -------------------------------------------------------------------------- */

typedef struct {
	guint64 start_ticks;
	guint64 cpu_ms;
	gint64 wall_us;
} Sample;

struct _StdiolinkProcessMonitor {
	GObject parent_instance;

	GHashTable *samples; /* pid -> Sample, from the last query */
};

G_DEFINE_FINAL_TYPE(StdiolinkProcessMonitor, stdiolink_process_monitor, G_TYPE_OBJECT)

static void
stdiolink_process_monitor_finalize(GObject *object)
{
	StdiolinkProcessMonitor *self = STDIOLINK_PROCESS_MONITOR(object);

	g_hash_table_unref(self->samples);
	G_OBJECT_CLASS(stdiolink_process_monitor_parent_class)->finalize(object);
}

static void
stdiolink_process_monitor_class_init(StdiolinkProcessMonitorClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_process_monitor_finalize;
}

static GHashTable *
samples_new(void)
{
	return g_hash_table_new_full(NULL, NULL, NULL, g_free);
}

static void
stdiolink_process_monitor_init(StdiolinkProcessMonitor *self)
{
	self->samples = samples_new();
}

/**
 * stdiolink_process_monitor_new:
 *
 * Returns: (transfer full): a monitor with no samples yet
 */
StdiolinkProcessMonitor *
stdiolink_process_monitor_new(void)
{
	return g_object_new(STDIOLINK_TYPE_PROCESS_MONITOR, NULL);
}

typedef struct {
	gint root_pid;
	gboolean include_children;
	GHashTable *previous; /* a copy: the worker never sees the monitor's table */
	GHashTable *next;
	StdiolinkProcessInfo *info;
} QueryData;

static void
query_data_free(QueryData *data)
{
	g_hash_table_unref(data->previous);
	g_clear_pointer(&data->next, g_hash_table_unref);
	stdiolink_process_info_free(data->info);
	g_free(data);
}

static void
apply_samples(StdiolinkProcessInfo *info, GHashTable *previous, GHashTable *next, gint64 now_us)
{
	const Sample *before = g_hash_table_lookup(previous, GINT_TO_POINTER(info->pid));
	Sample *sample;

	if (!g_str_equal(info->status, "unknown")) {
		/* a reused pid is another process: its first sample again */
		if (before != NULL && before->start_ticks == info->start_ticks &&
		    now_us > before->wall_us && info->cpu_ms >= before->cpu_ms)
			info->cpu_percent = 100.0 * (double)(info->cpu_ms - before->cpu_ms) /
					    ((double)(now_us - before->wall_us) / 1000.0);
		sample = g_new0(Sample, 1);
		sample->start_ticks = info->start_ticks;
		sample->cpu_ms = info->cpu_ms;
		sample->wall_us = now_us;
		g_hash_table_insert(next, GINT_TO_POINTER(info->pid), sample);
	}
	for (guint i = 0; i < info->children->len; i++)
		apply_samples(info->children->pdata[i], previous, next, now_us);
}

static void
query_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	QueryData *data = task_data;

	if (data->include_children)
		data->info = stdiolink_process_info_read_tree(data->root_pid);
	else
		data->info = stdiolink_process_info_read(data->root_pid);
	data->next = samples_new();
	apply_samples(data->info, data->previous, data->next, g_get_monotonic_time());
	g_task_return_boolean(task, TRUE);
}

static void
query_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	StdiolinkProcessMonitor *self = STDIOLINK_PROCESS_MONITOR(source);
	g_autoptr(GTask) task = user_data;
	QueryData *data = g_task_get_task_data(G_TASK(res));

	/* pruned to this query's pids, as the earlier server did */
	g_hash_table_unref(self->samples);
	self->samples = g_steal_pointer(&data->next);
	g_task_return_pointer(task, g_steal_pointer(&data->info),
			      (GDestroyNotify)stdiolink_process_info_free);
}

static GHashTable *
samples_copy(GHashTable *samples)
{
	GHashTable *copy = samples_new();
	GHashTableIter iter;
	gpointer key, value;

	g_hash_table_iter_init(&iter, samples);
	while (g_hash_table_iter_next(&iter, &key, &value))
		g_hash_table_insert(copy, key, g_memdup2(value, sizeof(Sample)));
	return copy;
}

/**
 * stdiolink_process_monitor_query_async:
 * @monitor: the monitor
 * @root_pid: the process to read
 * @include_children: whether to read its descendants too
 * @cancellable: (nullable): a #GCancellable
 * @callback: called on the calling thread when done
 * @user_data: for @callback
 *
 * Reads the processes in a worker thread and fills in their CPU percentage from the
 * samples of the previous query; the samples of this query then replace all others.
 */
void
stdiolink_process_monitor_query_async(StdiolinkProcessMonitor *monitor,
				      gint root_pid,
				      gboolean include_children,
				      GCancellable *cancellable,
				      GAsyncReadyCallback callback,
				      gpointer user_data)
{
	g_autoptr(GTask) task = g_task_new(monitor, cancellable, callback, user_data);
	g_autoptr(GTask) worker = NULL;
	QueryData *data = g_new0(QueryData, 1);

	g_task_set_source_tag(task, stdiolink_process_monitor_query_async);
	data->root_pid = root_pid;
	data->include_children = include_children;
	data->previous = samples_copy(monitor->samples);

	/* the worker task carries the caller's task as its callback data */
	worker = g_task_new(monitor, cancellable, query_done_cb, g_steal_pointer(&task));
	g_task_set_task_data(worker, data, (GDestroyNotify)query_data_free);
	g_task_run_in_thread(worker, query_thread);
}

/**
 * stdiolink_process_monitor_query_finish: (skip)
 * @monitor: the monitor
 * @res: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the root process, with its descendants if they were asked for
 */
StdiolinkProcessInfo *
stdiolink_process_monitor_query_finish(StdiolinkProcessMonitor *monitor,
				       GAsyncResult *res,
				       GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, monitor), NULL);
	return g_task_propagate_pointer(G_TASK(res), error);
}

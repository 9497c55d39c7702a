#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/**
 * StdiolinkProcessInfo:
 * @pid: the process id
 * @parent_pid: stat ppid; 0 when unreadable
 * @name: `/proc/<pid>/comm`, trimmed; "" when unreadable
 * @command_line: `/proc/<pid>/cmdline` with NULs as spaces, trimmed; "" when unreadable
 * @status: `running`, `sleeping`, `zombie`, `stopped` or `unknown`
 * @started_at: (nullable): UTC ISO time the process started; %NULL when unknown
 * @start_ticks: stat starttime, in clock ticks since boot (tells a reused pid apart)
 * @cpu_ms: user + system CPU time used so far
 * @cpu_percent: 100 * CPU time / wall time since the previous sample; 0 on the first
 * @memory_rss_bytes: resident set size
 * @memory_vms_bytes: virtual size
 * @thread_count: stat num_threads
 * @uptime_seconds: how long the process has run
 * @io_read_bytes: `/proc/<pid>/io` read_bytes; 0 when unreadable
 * @io_write_bytes: `/proc/<pid>/io` write_bytes; 0 when unreadable
 * @children: (element-type StdiolinkProcessInfo): the children, in kernel order
 *
 * One process as http-api.md 6.5 and 6.6 report it. A process that cannot be read (it
 * exited, or belongs to someone else) has status `unknown` and zeros.
 */
typedef struct {
	gint pid;
	gint parent_pid;
	char *name;
	char *command_line;
	const char *status;
	char *started_at;
	guint64 start_ticks;
	guint64 cpu_ms;
	double cpu_percent;
	gint64 memory_rss_bytes;
	gint64 memory_vms_bytes;
	gint thread_count;
	gint64 uptime_seconds;
	gint64 io_read_bytes;
	gint64 io_write_bytes;
	GPtrArray *children;
} StdiolinkProcessInfo;

StdiolinkProcessInfo *stdiolink_process_info_read(gint pid);
StdiolinkProcessInfo *stdiolink_process_info_read_tree(gint root_pid);
GArray *stdiolink_process_info_list_children(gint pid);
GArray *stdiolink_process_info_scan_children(gint pid);
void stdiolink_process_info_free(StdiolinkProcessInfo *info);

JsonNode *stdiolink_process_info_tree_to_json(const StdiolinkProcessInfo *root,
					      const char *instance_id);
JsonNode *stdiolink_process_info_resources_to_json(const StdiolinkProcessInfo *root,
						   const char *instance_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkProcessInfo, stdiolink_process_info_free)

#define STDIOLINK_TYPE_PROCESS_MONITOR (stdiolink_process_monitor_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkProcessMonitor,
		     stdiolink_process_monitor,
		     STDIOLINK,
		     PROCESS_MONITOR,
		     GObject)

StdiolinkProcessMonitor *stdiolink_process_monitor_new(void);
void stdiolink_process_monitor_query_async(StdiolinkProcessMonitor *monitor,
					   gint root_pid,
					   gboolean include_children,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data);
StdiolinkProcessInfo *stdiolink_process_monitor_query_finish(StdiolinkProcessMonitor *monitor,
							     GAsyncResult *res,
							     GError **error);

G_END_DECLS

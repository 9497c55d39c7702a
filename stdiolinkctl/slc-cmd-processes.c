#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "slc-commands.h"

/* `instances tree` and `instances resources`: the processes an instance runs, from /proc */

/* "5s", "3m 2s", "4h 3m", "2d 4h": the two largest units */
static char *
format_duration(JsonNode *root, const char *path)
{
	JsonNode *node = slc_json_lookup(root, path);
	guint64 total;

	if (!stdiolink_json_node_is_number(node) || stdiolink_json_node_get_number(node) < 0)
		return g_strdup("-");
	total = (guint64)stdiolink_json_node_get_number(node);
	if (total >= 86400) {
		/* TRANSLATORS: a duration in days and hours */
		return g_strdup_printf(_("%ud %uh"), (guint)MIN(total / 86400, G_MAXUINT),
				       (guint)(total / 3600 % 24));
	}
	if (total >= 3600) {
		/* TRANSLATORS: a duration in hours and minutes */
		return g_strdup_printf(_("%uh %um"), (guint)(total / 3600),
				       (guint)(total / 60 % 60));
	}
	if (total >= 60) {
		/* TRANSLATORS: a duration in minutes and seconds */
		return g_strdup_printf(_("%um %us"), (guint)(total / 60), (guint)(total % 60));
	}
	/* TRANSLATORS: a duration in seconds */
	return g_strdup_printf(_("%us"), (guint)total);
}

static guint
summary_count(JsonNode *summary, const char *path)
{
	JsonNode *node = slc_json_lookup(summary, path);

	if (!stdiolink_json_node_is_number(node) || stdiolink_json_node_get_number(node) < 0)
		return 0;
	return (guint)MIN(stdiolink_json_node_get_number(node), G_MAXUINT);
}

/* "3 processes, 7 threads, CPU 1.5%, memory 9.2 MiB" */
static void
print_summary(JsonNode *summary)
{
	guint processes = summary_count(summary, "totalProcesses");
	guint threads = summary_count(summary, "totalThreads");
	g_autofree char *cpu = slc_format_percent(summary, "totalCpuPercent");
	g_autofree char *rss = slc_format_bytes(summary, "totalMemoryRssBytes");
	g_autofree char *processes_text = NULL;
	g_autofree char *threads_text = NULL;

	if (summary == NULL || !JSON_NODE_HOLDS_OBJECT(summary))
		return;
	processes_text = g_strdup_printf(ngettext("%u process", "%u processes", processes),
					 processes);
	threads_text = g_strdup_printf(ngettext("%u thread", "%u threads", threads), threads);
	/* TRANSLATORS: "3 processes, 7 threads, CPU 1.5%, memory 9.2 MiB" */
	printf(_("\n%s, %s, CPU %s, memory %s\n"), processes_text, threads_text, cpu, rss);
}

/* one node and, below it, its children; @prefix draws the branches of the levels above */
static void
add_tree_rows(SlcTable *table, JsonNode *node, const char *prefix, gboolean root,
	      gboolean last)
{
	JsonArray *children = slc_json_get_array(node, "children");
	g_autofree char *pid = slc_json_display(node, "pid");
	g_autofree char *name = slc_json_display(node, "name");
	g_autofree char *cpu = slc_format_percent(node, "resources.cpuPercent");
	g_autofree char *rss = slc_format_bytes(node, "resources.memoryRssBytes");
	g_autofree char *threads = slc_json_display(node, "resources.threadCount");
	g_autofree char *status = slc_json_display(node, "status");
	g_autofree char *label = NULL;
	g_autofree char *child_prefix = NULL;
	guint n = children != NULL ? json_array_get_length(children) : 0;

	if (root) {
		label = g_strdup(name);
		child_prefix = g_strdup("");
	} else {
		label = g_strconcat(prefix, last ? "└─ " : "├─ ", name, NULL);
		child_prefix = g_strconcat(prefix, last ? "   " : "│  ", NULL);
	}
	slc_table_add_row(table, pid, label, status, cpu, rss, threads, NULL);

	for (guint i = 0; i < n; i++) {
		add_tree_rows(table, json_array_get_element(children, i), child_prefix, FALSE,
			      i + 1 == n);
	}
}

static void
render_tree(SlcContext *ctx, JsonNode *root)
{
	JsonNode *tree = slc_json_lookup(root, "tree");
	g_autoptr(SlcTable) table = slc_table_new(6);

	/* TRANSLATORS: table column headers of the process tree */
	slc_table_add_header(table, _("PID"));
	slc_table_add_header(table, _("NAME"));
	slc_table_add_header(table, _("STATUS"));
	slc_table_add_header(table, _("CPU"));
	slc_table_add_header(table, _("RSS"));
	slc_table_add_header(table, _("THREADS"));
	if (tree != NULL && JSON_NODE_HOLDS_OBJECT(tree))
		add_tree_rows(table, tree, "", TRUE, TRUE);
	slc_context_print_table(ctx, table);
	print_summary(slc_json_lookup(root, "summary"));
}

/**
 * slc_cmd_instances_tree:
 * @ctx: the context
 * @args: the instance id
 * @error: return location for a #GError
 *
 * `stdiolinkctl instances tree ID`: GET /api/instances/ID/process-tree, drawn as a tree
 * with the CPU share and resident memory of each process.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_instances_tree(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = slc_instance_path(args->positional[0], "process-tree");

	return slc_context_show(ctx, path, render_tree, error);
}

static void
add_process_row(SlcTable *table, JsonNode *process)
{
	g_autofree char *pid = slc_json_display(process, "pid");
	g_autofree char *ppid = slc_json_display(process, "parentPid");
	g_autofree char *name = slc_json_display(process, "name");
	g_autofree char *status = slc_json_display(process, "status");
	g_autofree char *cpu = slc_format_percent(process, "cpuPercent");
	g_autofree char *rss = slc_format_bytes(process, "memoryRssBytes");
	g_autofree char *vms = slc_format_bytes(process, "memoryVmsBytes");
	g_autofree char *threads = slc_json_display(process, "threadCount");
	g_autofree char *uptime = format_duration(process, "uptimeSeconds");
	g_autofree char *read = slc_format_bytes(process, "ioReadBytes");
	g_autofree char *written = slc_format_bytes(process, "ioWriteBytes");

	slc_table_add_row(table, pid, ppid, name, status, cpu, rss, vms, threads, uptime, read,
			  written, NULL);
}

static void
render_resources(SlcContext *ctx, JsonNode *root)
{
	JsonArray *processes = slc_json_get_array(root, "processes");
	g_autoptr(SlcTable) table = slc_table_new(11);

	/* TRANSLATORS: table column headers of the resource table; PPID is the parent's PID,
	 * RSS resident and VIRTUAL virtual memory, READ and WRITTEN disk I/O */
	slc_table_add_header(table, _("PID"));
	slc_table_add_header(table, _("PPID"));
	slc_table_add_header(table, _("NAME"));
	slc_table_add_header(table, _("STATUS"));
	slc_table_add_header(table, _("CPU"));
	slc_table_add_header(table, _("RSS"));
	slc_table_add_header(table, _("VIRTUAL"));
	slc_table_add_header(table, _("THREADS"));
	slc_table_add_header(table, _("UPTIME"));
	slc_table_add_header(table, _("READ"));
	slc_table_add_header(table, _("WRITTEN"));
	for (guint i = 0; processes != NULL && i < json_array_get_length(processes); i++)
		add_process_row(table, json_array_get_element(processes, i));
	slc_context_print_table(ctx, table);
	print_summary(slc_json_lookup(root, "summary"));
}

/**
 * slc_cmd_instances_resources:
 * @ctx: the context
 * @args: the instance id
 * @error: return location for a #GError
 *
 * `stdiolinkctl instances resources ID`: GET /api/instances/ID/resources, one row per
 * process, the instance's own process first. The daemon measures CPU between two
 * requests, so the first answer shows 0%.
 *
 * Returns: %TRUE on success
 */
gboolean
slc_cmd_instances_resources(SlcContext *ctx, SlcArgs *args, GError **error)
{
	g_autofree char *path = slc_instance_path(args->positional[0], "resources");

	return slc_context_show(ctx, path, render_resources, error);
}

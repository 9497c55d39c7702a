#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "sl-test-utils.h"

/**
 * sl_test_make_tmp_dir:
 * @tmpl: a folder name template ending in `XXXXXX`, as for g_dir_make_tmp()
 *
 * Returns: (transfer full): the path of a new, empty folder in the temp folder
 */
char *
sl_test_make_tmp_dir(const char *tmpl)
{
	g_autoptr(GError) error = NULL;
	char *dir = g_dir_make_tmp(tmpl, &error);

	g_assert_no_error(error);
	return dir;
}

/**
 * sl_test_make_dir:
 * @parent: a folder
 * @name: a relative path below @parent
 *
 * Creates `@parent/@name` and the folders above it that are missing.
 *
 * Returns: (transfer full): its path
 */
char *
sl_test_make_dir(const char *parent, const char *name)
{
	char *path = g_build_filename(parent, name, NULL);

	g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
	return path;
}

/**
 * sl_test_remove_tree:
 * @path: a file or folder
 *
 * Deletes @path and everything below it without following symbolic links. A missing @path
 * counts as removed.
 *
 * Returns: %TRUE if nothing of @path is left
 */
gboolean
sl_test_remove_tree(const char *path)
{
	g_autoptr(GDir) dir = NULL;
	gboolean ok = TRUE;
	const char *name;
	GStatBuf st;

	if (g_lstat(path, &st) != 0)
		return errno == ENOENT;
	if (!S_ISDIR(st.st_mode))
		return g_unlink(path) == 0;

	/* a test may have made a folder read-only to provoke a write error */
	g_chmod(path, 0755);
	dir = g_dir_open(path, 0, NULL);
	while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (!sl_test_remove_tree(child))
			ok = FALSE;
	}

	if (g_rmdir(path) != 0)
		return FALSE;
	return ok;
}

/**
 * sl_test_write_file:
 * @dir: a folder
 * @name: a relative path below @dir
 * @contents: the text to write
 * @mode: the permissions the file gets, e.g. 0644 or 0755
 *
 * Writes `@dir/@name`, creating the folders above it that are missing.
 */
void
sl_test_write_file(const char *dir, const char *name, const char *contents, int mode)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	g_autofree char *parent = g_path_get_dirname(path);
	g_autoptr(GError) error = NULL;

	g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
	g_file_set_contents(path, contents, -1, &error);
	g_assert_no_error(error);
	g_assert_cmpint(g_chmod(path, mode), ==, 0);
}

/**
 * sl_test_read_file:
 * @path: a file that must exist
 *
 * Returns: (transfer full): its contents
 */
char *
sl_test_read_file(const char *path)
{
	g_autoptr(GError) error = NULL;
	char *contents = NULL;

	g_file_get_contents(path, &contents, NULL, &error);
	g_assert_no_error(error);
	return contents;
}

/**
 * sl_test_copy_tree:
 * @src: a folder, e.g. one of the fixtures
 * @dst: where the copy goes; created if missing
 *
 * Copies the files and folders below @src; a test works on the copy and never changes
 * the original.
 */
void
sl_test_copy_tree(const char *src, const char *dst)
{
	g_autoptr(GDir) dir = g_dir_open(src, 0, NULL);
	const char *name;

	g_assert_nonnull(dir);
	g_assert_cmpint(g_mkdir_with_parents(dst, 0755), ==, 0);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *from = g_build_filename(src, name, NULL);
		g_autofree char *to = g_build_filename(dst, name, NULL);
		g_autofree char *contents = NULL;
		gsize length;

		if (g_file_test(from, G_FILE_TEST_IS_DIR)) {
			sl_test_copy_tree(from, to);
			continue;
		}
		g_assert_true(g_file_get_contents(from, &contents, &length, NULL));
		g_assert_true(g_file_set_contents(to, contents, (gssize)length, NULL));
	}
}

typedef struct {
	const char *dir_field;
	GPtrArray *warnings;
} ScanCapture;

static GLogWriterOutput
capture_writer(GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
	ScanCapture *capture = data;
	const char *dir = NULL;
	const char *reason = NULL;

	for (gsize i = 0; i < n_fields; i++) {
		if (g_str_equal(fields[i].key, capture->dir_field))
			dir = fields[i].value;
		else if (g_str_equal(fields[i].key, "STDIOLINK_REASON"))
			reason = fields[i].value;
	}
	if ((level & G_LOG_LEVEL_WARNING) && dir != NULL && reason != NULL) {
		g_ptr_array_add(capture->warnings, g_strdup_printf("%s: %s", dir, reason));
		return G_LOG_WRITER_HANDLED;
	}
	return g_log_writer_default(level, fields, n_fields, NULL);
}

/**
 * sl_test_capture_scan_warnings:
 * @dir_field: the structured log field that names the skipped folder, e.g.
 *   `STDIOLINK_SERVICE_DIR` (a static string)
 *
 * Installs the process's log writer, so call it once, before g_test_init(). From then on
 * the scanner's warnings (a @dir_field and a `STDIOLINK_REASON` field) are not printed but
 * collected as "<dir>: <reason>"; every other message goes to the default writer.
 *
 * Returns: (transfer none) (element-type utf8): the collected warnings; a test empties it
 *   with g_ptr_array_set_size() once it has checked them
 */
GPtrArray *
sl_test_capture_scan_warnings(const char *dir_field)
{
	static ScanCapture capture;

	g_assert_null(capture.warnings);
	capture.dir_field = dir_field;
	capture.warnings = g_ptr_array_new_with_free_func(g_free);
	g_log_set_writer_func(capture_writer, &capture, NULL);
	return capture.warnings;
}

static void
store_result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **out = user_data;

	*out = g_object_ref(res);
}

static gboolean
cancel_cb(gpointer user_data)
{
	g_cancellable_cancel(user_data);
	return G_SOURCE_REMOVE;
}

/**
 * sl_test_read_line:
 * @stream: the output of a program the test runs
 *
 * Reads one line while the default main context keeps running, so that the test's own
 * sources (a daemon's answers, timers) go on meanwhile.
 *
 * Returns: (transfer full) (nullable): the next line, or %NULL at the end of the output or
 *   after 20 s without one
 */
char *
sl_test_read_line(GDataInputStream *stream)
{
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	g_autoptr(GError) error = NULL;
	GAsyncResult *res = NULL;
	GSource *timeout = g_timeout_source_new_seconds(20);
	char *line;

	g_source_set_callback(timeout, cancel_cb, cancellable, NULL);
	g_source_attach(timeout, NULL);
	g_data_input_stream_read_line_async(stream, G_PRIORITY_DEFAULT, cancellable,
					    store_result_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_source_destroy(timeout);
	g_source_unref(timeout);
	line = g_data_input_stream_read_line_finish_utf8(stream, res, NULL, &error);
	g_object_unref(res);
	if (error != NULL)
		g_test_message("reading the program's output: %s", error->message);
	return line;
}

/**
 * sl_test_process_gone:
 * @pid: a process id
 *
 * Returns: %TRUE if no process has @pid, or only a zombie (killed, not reaped yet)
 */
gboolean
sl_test_process_gone(GPid pid)
{
	g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);
	g_autofree char *stat = NULL;
	const char *paren;

	if (!g_file_get_contents(stat_path, &stat, NULL, NULL))
		return TRUE;
	paren = strrchr(stat, ')');
	return paren != NULL && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

static void
bus_flushed_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	gboolean *done = user_data;

	g_assert_true(stdiolink_event_bus_flush_finish(STDIOLINK_EVENT_BUS(source), res, NULL));
	*done = TRUE;
}

/**
 * sl_test_flush_bus:
 * @bus: an event bus
 *
 * Runs the default main context until every event published so far is in the event log.
 */
void
sl_test_flush_bus(StdiolinkEventBus *bus)
{
	gboolean done = FALSE;

	stdiolink_event_bus_flush_async(bus, NULL, bus_flushed_cb, &done);
	while (!done)
		g_main_context_iteration(NULL, TRUE);
}

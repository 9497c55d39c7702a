#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sl-test-utils.h"
#include "stdiolink-log-writer-private.h"
#include "stdiolink.h"

typedef struct {
	gboolean done;
	gboolean ok;
	GError *error;
} FlushState;

static void
flush_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	FlushState *st = user_data;

	st->ok = stdiolink_log_writer_flush_finish(STDIOLINK_LOG_WRITER(source), res, &st->error);
	st->done = TRUE;
}

static gboolean
flush_sync(StdiolinkLogWriter *w, GError **error)
{
	FlushState st = {0};

	stdiolink_log_writer_flush_async(w, NULL, flush_cb, &st);
	while (!st.done)
		g_main_context_iteration(NULL, TRUE);
	if (st.error != NULL)
		g_propagate_error(error, st.error);
	return st.ok;
}

/* strips "<ts> | " after checking its shape */
static const char *
strip_ts(const char *line)
{
	const char *pattern = "^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z \\| ";

	g_assert_true(g_regex_match_simple(pattern, line, 0, 0));
	return line + strlen("2025-01-02T03:04:05.678Z | ");
}

static void
test_rotated_path_func(void)
{
	const struct {
		const char *in;
		const char *out;
	} cases[] = {
		{"/d/p1.log", "/d/p1.2.log"},
		{"/d/events.jsonl", "/d/events.2.jsonl"},
		{"/d/server.log", "/d/server.2.log"},
		{"/d.x/noext", "/d.x/noext.2"},
		{"/d/.hidden", "/d/.hidden.2"},
		{"/d/a.b.c", "/d/a.b.2.c"},
		{"rel.log", "rel.2.log"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *out = stdiolink_log_writer_rotated_path(cases[i].in, 2);

		g_assert_cmpstr(out, ==, cases[i].out);
	}
}

static void
test_append_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "sub", "p1.log", NULL);
	g_autoptr(StdiolinkLogWriter) w = stdiolink_log_writer_new(path, 1000, 2);
	g_autoptr(GError) error = NULL;
	g_autofree char *text = NULL;

	/* an empty flush completes at once */
	g_assert_true(flush_sync(w, &error));

	stdiolink_log_writer_append_line(w, "first");
	stdiolink_log_writer_append_line(w, "second");
	stdiolink_log_writer_append_line(w, "");
	g_assert_true(flush_sync(w, &error));
	g_assert_no_error(error);

	/* the folder was created, every line got its newline */
	text = sl_test_read_file(path);
	g_assert_cmpstr(text, ==, "first\nsecond\n\n");
	g_assert_cmpstr(stdiolink_log_writer_get_path(w), ==, path);

	g_clear_object(&w);
	sl_test_remove_tree(root);
}

static void
write_lines(StdiolinkLogWriter *w, guint from, guint to)
{
	for (guint i = from; i <= to; i++) {
		g_autofree char *line = g_strdup_printf("line-%03u", i);

		stdiolink_log_writer_append_line(w, line);
	}
}

static void
test_rotation_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "p1.log", NULL);
	g_autofree char *r1 = g_build_filename(root, "p1.1.log", NULL);
	g_autofree char *r2 = g_build_filename(root, "p1.2.log", NULL);
	g_autofree char *r3 = g_build_filename(root, "p1.3.log", NULL);
	g_autoptr(StdiolinkLogWriter) w = NULL;
	g_autofree char *t0 = NULL;
	g_autofree char *t1 = NULL;
	g_autofree char *t2 = NULL;

	/* 9-byte lines, 20-byte files: two lines per file */
	w = stdiolink_log_writer_new(path, 20, 2);
	write_lines(w, 1, 7);
	g_assert_true(flush_sync(w, NULL));

	t0 = sl_test_read_file(path);
	t1 = sl_test_read_file(r1);
	t2 = sl_test_read_file(r2);
	g_assert_cmpstr(t0, ==, "line-007\n");
	g_assert_cmpstr(t1, ==, "line-005\nline-006\n");
	g_assert_cmpstr(t2, ==, "line-003\nline-004\n");
	g_assert_false(g_file_test(r3, G_FILE_TEST_EXISTS));

	g_clear_object(&w);
	sl_test_remove_tree(root);
}

static void
test_rotation_existing_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "events.jsonl", NULL);
	g_autofree char *r1 = g_build_filename(root, "events.1.jsonl", NULL);
	g_autoptr(StdiolinkLogWriter) w = NULL;
	g_autofree char *t0 = NULL;
	g_autofree char *t1 = NULL;

	/* the size of a file left by an earlier run counts */
	g_assert_true(g_file_set_contents(path, "old-line-1234\n", -1, NULL));
	w = stdiolink_log_writer_new(path, 20, 1);
	write_lines(w, 1, 1);
	g_assert_true(flush_sync(w, NULL));

	t0 = sl_test_read_file(path);
	t1 = sl_test_read_file(r1);
	g_assert_cmpstr(t0, ==, "line-001\n");
	g_assert_cmpstr(t1, ==, "old-line-1234\n");

	g_clear_object(&w);
	sl_test_remove_tree(root);
}

static void
test_rotation_no_backups_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "p1.log", NULL);
	g_autofree char *r1 = g_build_filename(root, "p1.1.log", NULL);
	g_autoptr(StdiolinkLogWriter) w = stdiolink_log_writer_new(path, 20, 0);
	g_autofree char *t0 = NULL;

	write_lines(w, 1, 5);
	g_assert_true(flush_sync(w, NULL));

	t0 = sl_test_read_file(path);
	g_assert_cmpstr(t0, ==, "line-005\n");
	g_assert_false(g_file_test(r1, G_FILE_TEST_EXISTS));

	g_clear_object(&w);
	sl_test_remove_tree(root);
}

static void
test_oversized_line_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "p1.log", NULL);
	g_autofree char *r1 = g_build_filename(root, "p1.1.log", NULL);
	g_autoptr(StdiolinkLogWriter) w = stdiolink_log_writer_new(path, 10, 3);
	g_autofree char *t0 = NULL;
	g_autofree char *t1 = NULL;

	/* a line longer than the limit goes into an empty file whole; the next one rotates */
	stdiolink_log_writer_append_line(w, "this line is far too long");
	stdiolink_log_writer_append_line(w, "short");
	g_assert_true(flush_sync(w, NULL));

	t0 = sl_test_read_file(path);
	t1 = sl_test_read_file(r1);
	g_assert_cmpstr(t0, ==, "short\n");
	g_assert_cmpstr(t1, ==, "this line is far too long\n");

	g_clear_object(&w);
	sl_test_remove_tree(root);
}

static void
flush_order_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GString *order = user_data;
	g_autofree char *text = NULL;
	const char *path = stdiolink_log_writer_get_path(STDIOLINK_LOG_WRITER(source));

	g_assert_true(stdiolink_log_writer_flush_finish(STDIOLINK_LOG_WRITER(source), res, NULL));
	text = sl_test_read_file(path);
	g_string_append_printf(order, "[%s]", text);
}

static void
test_flush_order_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "p1.log", NULL);
	g_autoptr(StdiolinkLogWriter) w = stdiolink_log_writer_new(path, 1000, 1);
	g_autoptr(GString) order = g_string_new(NULL);

	/* each flush completes once the lines queued before it are on disk */
	stdiolink_log_writer_append_line(w, "a");
	stdiolink_log_writer_flush_async(w, NULL, flush_order_cb, order);
	stdiolink_log_writer_append_line(w, "b");
	stdiolink_log_writer_flush_async(w, NULL, flush_order_cb, order);
	g_assert_true(flush_sync(w, NULL));

	g_assert_true(g_str_has_prefix(order->str, "[a\n"));
	g_assert_true(g_str_has_suffix(order->str, "][a\nb\n]"));

	g_clear_object(&w);
	sl_test_remove_tree(root);
}

static void
test_open_error_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *blocker = g_build_filename(root, "file", NULL);
	g_autofree char *path = g_build_filename(blocker, "p1.log", NULL);
	g_autoptr(StdiolinkLogWriter) w = stdiolink_log_writer_new(path, 1000, 1);
	g_autoptr(GError) error = NULL;
	GLogLevelFlags fatal;

	/* the parent is a regular file: the lines are lost and the flush says so */
	g_assert_true(g_file_set_contents(blocker, "x", -1, NULL));
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	stdiolink_log_writer_append_line(w, "lost");
	g_assert_false(flush_sync(w, &error));
	g_log_set_always_fatal(fatal);
	g_assert_nonnull(error);

	g_clear_object(&w);
	sl_test_remove_tree(root);
}

static void
test_splitter_lines_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "p1.log", NULL);
	g_autoptr(StdiolinkLogWriter) w = stdiolink_log_writer_new(path, 1 << 20, 1);
	g_autoptr(StdiolinkLineSplitter) out = stdiolink_line_splitter_new(w, "");
	g_autoptr(StdiolinkLineSplitter) err = stdiolink_line_splitter_new(w, "[stderr] ");
	const char *chunks[] = {"one\r", "\ntw", "o\n\nthr", "ee"};
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	for (guint i = 0; i < G_N_ELEMENTS(chunks); i++)
		stdiolink_line_splitter_feed(out, (const guint8 *)chunks[i], strlen(chunks[i]));
	stdiolink_line_splitter_feed(err, (const guint8 *)"bad\npart", 8);

	/* leftovers: stdout first, then stderr */
	stdiolink_line_splitter_finish(out);
	stdiolink_line_splitter_finish(err);
	stdiolink_line_splitter_finish(out);
	stdiolink_line_splitter_write_line(err, "service run timeout (5 ms)");
	g_assert_true(flush_sync(w, NULL));

	text = sl_test_read_file(path);
	lines = g_strsplit(text, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 8);
	g_assert_cmpstr(strip_ts(lines[0]), ==, "one\r");
	g_assert_cmpstr(strip_ts(lines[1]), ==, "two");
	g_assert_cmpstr(strip_ts(lines[2]), ==, "");
	g_assert_cmpstr(strip_ts(lines[3]), ==, "[stderr] bad");
	g_assert_cmpstr(strip_ts(lines[4]), ==, "three");
	g_assert_cmpstr(strip_ts(lines[5]), ==, "[stderr] part");
	g_assert_cmpstr(strip_ts(lines[6]), ==, "[stderr] service run timeout (5 ms)");
	g_assert_cmpstr(lines[7], ==, "");

	g_clear_pointer(&out, stdiolink_line_splitter_free);
	g_clear_pointer(&err, stdiolink_line_splitter_free);
	g_clear_object(&w);
	sl_test_remove_tree(root);
}

static void
test_splitter_cap_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "p1.log", NULL);
	g_autoptr(StdiolinkLogWriter) w = stdiolink_log_writer_new(path, 16 << 20, 1);
	g_autoptr(StdiolinkLineSplitter) out = stdiolink_line_splitter_new(w, "");
	g_autofree guint8 *chunk = g_malloc(65536);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	/* exactly 1 MiB is still kept; one more chunk makes it a line of its own */
	memset(chunk, 'x', 65536);
	for (guint i = 0; i < 16; i++)
		stdiolink_line_splitter_feed(out, chunk, 65536);
	stdiolink_line_splitter_feed(out, chunk, 65536);
	stdiolink_line_splitter_feed(out, (const guint8 *)"tail\n", 5);
	g_assert_true(flush_sync(w, NULL));

	text = sl_test_read_file(path);
	lines = g_strsplit(text, "\n", -1);
	g_assert_cmpuint(g_strv_length(lines), ==, 3);
	g_assert_cmpuint(strlen(strip_ts(lines[0])), ==, 17 * 65536);
	g_assert_cmpstr(strip_ts(lines[1]), ==, "tail");

	g_clear_pointer(&out, stdiolink_line_splitter_free);
	g_clear_object(&w);
	sl_test_remove_tree(root);
}

/* a rotation that cannot move the file lets the lines go on past the limit, not spin */
static void
test_rotation_blocked_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "p1.log", NULL);
	g_autofree char *r1 = g_build_filename(root, "p1.1.log", NULL);
	g_autofree char *keep = g_build_filename(r1, "keep", NULL);
	g_autoptr(StdiolinkLogWriter) w = NULL;
	g_autofree char *text = NULL;
	GLogLevelFlags fatal;

	/* the rename target is a folder that is not empty: every rename onto it fails */
	g_assert_cmpint(g_mkdir_with_parents(keep, 0755), ==, 0);
	sl_test_write_file(root, "p1.log", "line-000\nline-001\n", 0644);
	w = stdiolink_log_writer_new(path, 20, 1);
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	write_lines(w, 2, 5);
	g_assert_true(flush_sync(w, NULL));
	g_log_set_always_fatal(fatal);

	text = sl_test_read_file(path);
	g_assert_cmpstr(text, ==, "line-000\nline-001\nline-002\nline-003\nline-004\nline-005\n");
	g_assert_true(g_file_test(keep, G_FILE_TEST_IS_DIR));

	g_clear_object(&w);
	sl_test_remove_tree(root);
}

/* a FIFO in the log's place is refused at once instead of holding the writer */
static void
test_not_regular_func(void)
{
	g_autofree char *root = sl_test_make_tmp_dir("sl-logw-XXXXXX");
	g_autofree char *path = g_build_filename(root, "p1.log", NULL);
	g_autoptr(StdiolinkLogWriter) w = stdiolink_log_writer_new(path, 1 << 20, 1);
	g_autoptr(GError) error = NULL;
	GLogLevelFlags fatal;

	g_assert_cmpint(mkfifo(path, 0644), ==, 0);
	fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
	stdiolink_log_writer_append_line(w, "lost");
	g_assert_false(flush_sync(w, &error));
	g_log_set_always_fatal(fatal);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);

	g_clear_object(&w);
	sl_test_remove_tree(root);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);

	g_test_add_func("/log-writer/rotated-path", test_rotated_path_func);
	g_test_add_func("/log-writer/append", test_append_func);
	g_test_add_func("/log-writer/rotation", test_rotation_func);
	g_test_add_func("/log-writer/rotation-existing", test_rotation_existing_func);
	g_test_add_func("/log-writer/rotation-no-backups", test_rotation_no_backups_func);
	g_test_add_func("/log-writer/oversized-line", test_oversized_line_func);
	g_test_add_func("/log-writer/flush-order", test_flush_order_func);
	g_test_add_func("/log-writer/open-error", test_open_error_func);
	g_test_add_func("/log-writer/rotation-blocked", test_rotation_blocked_func);
	g_test_add_func("/log-writer/not-regular", test_not_regular_func);
	g_test_add_func("/log-writer/splitter-lines", test_splitter_lines_func);
	g_test_add_func("/log-writer/splitter-cap", test_splitter_cap_func);
	return g_test_run();
}

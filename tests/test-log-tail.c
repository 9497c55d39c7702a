#include "config.h"

#include <string.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

/* the log tail of http-api.md 10, on real files */

typedef struct {
	char *dir;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
	fx->dir = sl_test_make_tmp_dir("log-tail-XXXXXX");
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
	sl_test_remove_tree(fx->dir);
	g_free(fx->dir);
}

static char *
write_log(Fixture *fx, const char *contents, gssize length)
{
	char *path = g_build_filename(fx->dir, "p.log", NULL);
	g_autoptr(GError) error = NULL;

	g_file_set_contents(path, contents, length, &error);
	g_assert_no_error(error);
	return path;
}

static GPtrArray *
tail(const char *path, guint max_lines)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *lines = stdiolink_log_tail_read(path, max_lines, &error);

	g_assert_no_error(error);
	g_assert_nonnull(lines);
	return lines;
}

static void
assert_lines(GPtrArray *lines, const char *const *expected)
{
	guint n = g_strv_length((char **)expected);

	g_assert_cmpuint(lines->len, ==, n);
	for (guint i = 0; i < n; i++)
		g_assert_cmpstr(g_ptr_array_index(lines, i), ==, expected[i]);
}

static void
test_last_n_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *path = write_log(fx, "one\ntwo\nthree\nfour\n", -1);
	g_autoptr(GPtrArray) two = tail(path, 2);
	g_autoptr(GPtrArray) all = tail(path, 100);
	g_autoptr(GPtrArray) one = tail(path, 1);
	g_autoptr(GPtrArray) none = tail(path, 0);

	assert_lines(two, (const char *const[]){"three", "four", NULL});
	assert_lines(all, (const char *const[]){"one", "two", "three", "four", NULL});
	assert_lines(one, (const char *const[]){"four", NULL});
	g_assert_cmpuint(none->len, ==, 0);
}

static void
test_trim_and_empty_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *path =
	    write_log(fx, "\n\n  first  \r\n\r\n\t\n\tsecond\r\n   \nthird", -1);
	g_autoptr(GPtrArray) all = tail(path, 100);
	g_autoptr(GPtrArray) last_two = tail(path, 2);

	/*
	 * CRLF endings lose their CR; blank lines do not count towards N; "third" has no
	 * newline yet, so it is still being written and waits for the next read
	 */
	assert_lines(all, (const char *const[]){"first", "second", NULL});
	assert_lines(last_two, (const char *const[]){"first", "second", NULL});
}

static void
test_empty_file_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *path = write_log(fx, "", 0);
	g_autoptr(GPtrArray) lines = tail(path, 100);

	g_assert_cmpuint(lines->len, ==, 0);
}

static void
test_partial_first_line_func(Fixture *fx, gconstpointer data)
{
	gsize cut_len = STDIOLINK_LOG_TAIL_MAX_BYTES + 1000;
	GString *text = g_string_sized_new(cut_len + 64);
	g_autofree char *path = NULL;
	g_autoptr(GPtrArray) lines = NULL;

	/* one long line that the 4 MiB window starts inside of */
	g_string_append(text, "HEAD");
	for (gsize i = 4; i < cut_len; i++)
		g_string_append_c(text, 'x');
	g_string_append(text, "\nlast one\nlast two\n");
	path = write_log(fx, text->str, (gssize)text->len);
	g_string_free(text, TRUE);

	lines = tail(path, 5000);
	assert_lines(lines, (const char *const[]){"last one", "last two", NULL});
}

static void
test_window_on_line_start_func(Fixture *fx, gconstpointer data)
{
	const char *first = "before the window\n";
	const char *second = "first piece of the window\n";
	GString *text = g_string_new(first);
	g_autofree char *path = NULL;
	g_autoptr(GPtrArray) lines = NULL;

	/* the window starts exactly at a line: that piece is still dropped, as specified */
	g_string_append(text, second);
	while (text->len < strlen(first) + STDIOLINK_LOG_TAIL_MAX_BYTES - strlen("end\n"))
		g_string_append_c(text, '\n');
	g_string_append(text, "end\n");
	g_assert_cmpuint(text->len, ==, strlen(first) + STDIOLINK_LOG_TAIL_MAX_BYTES);
	path = write_log(fx, text->str, (gssize)text->len);
	g_string_free(text, TRUE);

	lines = tail(path, 5000);
	assert_lines(lines, (const char *const[]){"end", NULL});
}

static void
test_four_mib_cap_func(Fixture *fx, gconstpointer data)
{
	/* 16-byte lines, 6 MiB: the window holds the last 262144 lines */
	const guint total = 6 * 1024 * 1024 / 16;
	const guint window = STDIOLINK_LOG_TAIL_MAX_BYTES / 16;
	GString *text = g_string_sized_new(total * 16);
	g_autofree char *path = NULL;
	g_autoptr(GPtrArray) lines = NULL;
	g_autoptr(GPtrArray) last = NULL;
	g_autofree char *first_expected = NULL;

	for (guint i = 0; i < total; i++)
		g_string_append_printf(text, "line %010u\n", i);
	path = write_log(fx, text->str, (gssize)text->len);
	g_string_free(text, TRUE);

	/* its first line is dropped as the partial piece; nothing before the window is read */
	lines = tail(path, G_MAXUINT);
	g_assert_cmpuint(lines->len, ==, window - 1);
	first_expected = g_strdup_printf("line %010u", total - window + 1);
	g_assert_cmpstr(g_ptr_array_index(lines, 0), ==, first_expected);
	g_assert_cmpstr(g_ptr_array_index(lines, lines->len - 1), ==, "line 0000393215");

	last = tail(path, 5000);
	g_assert_cmpuint(last->len, ==, 5000);
	g_assert_cmpstr(g_ptr_array_index(last, 0), ==, "line 0000388216");
}

static void
test_invalid_utf8_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *path = write_log(fx, "ok \xff\xfe end\n", -1);
	g_autoptr(GPtrArray) lines = tail(path, 10);
	const char *line;

	g_assert_cmpuint(lines->len, ==, 1);
	line = g_ptr_array_index(lines, 0);
	g_assert_true(g_utf8_validate(line, -1, NULL));
	g_assert_true(g_str_has_prefix(line, "ok "));
	g_assert_true(g_str_has_suffix(line, " end"));
}

static void
test_missing_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *path = g_build_filename(fx->dir, "nope.log", NULL);
	g_autoptr(GError) error = NULL;
	GPtrArray *lines = stdiolink_log_tail_read(path, 10, &error);

	g_assert_null(lines);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND);
	g_assert_cmpstr(error->message, ==, "log file not found");
}

static void
test_directory_func(Fixture *fx, gconstpointer data)
{
	g_autoptr(GError) error = NULL;
	GPtrArray *lines = stdiolink_log_tail_read(fx->dir, 10, &error);

	g_assert_null(lines);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL);
}

static void
done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	*(GAsyncResult **)user_data = g_object_ref(res);
}

static GPtrArray *
tail_async(const char *path, guint max_lines, GError **error)
{
	GAsyncResult *res = NULL;
	GPtrArray *lines;

	stdiolink_log_tail_read_async(path, max_lines, NULL, done_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	lines = stdiolink_log_tail_read_finish(res, error);
	g_object_unref(res);
	return lines;
}

static void
test_async_func(Fixture *fx, gconstpointer data)
{
	g_autofree char *path = write_log(fx, "a\nb\nc\n", -1);
	g_autofree char *missing = g_build_filename(fx->dir, "missing.log", NULL);
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) lines = tail_async(path, 2, &error);
	GPtrArray *none;

	g_assert_no_error(error);
	assert_lines(lines, (const char *const[]){"b", "c", NULL});

	none = tail_async(missing, 2, &error);
	g_assert_null(none);
	g_assert_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND);
}

static void
add_test(const char *path, void (*func)(Fixture *, gconstpointer))
{
	g_test_add(path, Fixture, NULL, fixture_setup, func, fixture_teardown);
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	add_test("/log-tail/last-n", test_last_n_func);
	add_test("/log-tail/trim-and-empty", test_trim_and_empty_func);
	add_test("/log-tail/empty-file", test_empty_file_func);
	add_test("/log-tail/partial-first-line", test_partial_first_line_func);
	add_test("/log-tail/window-on-line-start", test_window_on_line_start_func);
	add_test("/log-tail/four-mib-cap", test_four_mib_cap_func);
	add_test("/log-tail/invalid-utf8", test_invalid_utf8_func);
	add_test("/log-tail/missing", test_missing_func);
	add_test("/log-tail/directory", test_directory_func);
	add_test("/log-tail/async", test_async_func);
	return g_test_run();
}

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "sl-test-utils.h"
#include "stdiolink.h"

/*
 * The asynchronous driver scan against real exports: every driver folder links the fake
 * driver sl-test-export-driver, which does what the folder's `behaviour` file says and
 * leaves traces (pid files, a shared log of starts and ends) that the tests check.
 */

#define OLD_META(id) "{\"info\": {\"id\": \"" id "\", \"name\": \"old\"}}\n"

/* the notes a scan leaves in a folder while an export runs */
#define PREV_NOTE ".driver.meta.json.prev"
#define MARKER_NOTE ".driver.meta.json.exporting"

/* far beyond any scan here: a scan still running then hangs on something */
#define DEADLINE_S 30

/* warnings of the scanner, as "<dir>: <reason>", captured from the structured log */
static GPtrArray *scan_warnings;

static const char *export_driver;

/* ---- helpers ----------------------------------------------------------------------- */

/* a driver folder; a %NULL behaviour leaves the executable out, a %NULL meta the meta */
static char *
make_driver(const char *drivers, const char *name, const char *behaviour, const char *meta)
{
	char *dir = sl_test_make_dir(drivers, name);

	if (behaviour != NULL) {
		g_autofree char *exe_name = g_strconcat("stdio.drv.", name, NULL);
		g_autofree char *exe = g_build_filename(dir, exe_name, NULL);

		sl_test_write_file(dir, "behaviour", behaviour, 0644);
		g_assert_cmpint(symlink(export_driver, exe), ==, 0);
	}
	if (meta != NULL)
		sl_test_write_file(dir, "driver.meta.json", meta, 0644);
	return dir;
}

typedef struct {
	GPtrArray *names;
	gboolean listed; /* the first call, done 0 with the total, came */
	guint last_done;
	guint total;
	GCancellable *cancel; /* nullable: cancelled once the first folder is done */
	gboolean starve_fds;  /* from the listing to the last folder, no file descriptor left */
	gboolean starved;
	struct rlimit saved_limit;
} Progress;

static void
progress_init(Progress *progress)
{
	progress->names = g_ptr_array_new_with_free_func(g_free);
	progress->listed = FALSE;
	progress->last_done = 0;
	progress->total = 0;
	progress->cancel = NULL;
	progress->starve_fds = FALSE;
	progress->starved = FALSE;
}

static void
progress_clear(Progress *progress)
{
	g_clear_pointer(&progress->names, g_ptr_array_unref);
}

/* the lowest free descriptor: where the next open() would land */
static int
lowest_free_fd(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	g_assert_cmpint(fd, >=, 0);
	close(fd);
	return fd;
}

/* the soft limit at the lowest free descriptor: every open(), pipe() fails with EMFILE */
static void
starve_fds(Progress *progress)
{
	struct rlimit limit;

	g_assert_cmpint(getrlimit(RLIMIT_NOFILE, &progress->saved_limit), ==, 0);
	limit = progress->saved_limit;
	limit.rlim_cur = (rlim_t)lowest_free_fd();
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &limit), ==, 0);
	progress->starved = TRUE;
}

static void
feed_fds(Progress *progress)
{
	if (!progress->starved)
		return;
	g_assert_cmpint(setrlimit(RLIMIT_NOFILE, &progress->saved_limit), ==, 0);
	progress->starved = FALSE;
}

/* valgrind only pretends to lower the limit */
static gboolean
fd_limit_enforced(void)
{
	Progress probe;
	int fd;

	starve_fds(&probe);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	feed_fds(&probe);
	if (fd < 0)
		return TRUE;
	close(fd);
	return FALSE;
}

static void
progress_cb(guint done, guint total, const char *dir_name, gpointer user_data)
{
	Progress *progress = user_data;

	/* first the total, once the folders are listed */
	if (!progress->listed) {
		g_assert_cmpuint(done, ==, 0);
		g_assert_null(dir_name);
		progress->listed = TRUE;
		progress->total = total;
		if (progress->starve_fds)
			starve_fds(progress);
		return;
	}

	/* then one call per folder, counting up by one, always against the same total */
	g_assert_cmpuint(done, ==, progress->last_done + 1);
	g_assert_cmpuint(total, ==, progress->total);
	g_assert_cmpuint(done, <=, total);
	g_assert_nonnull(dir_name);
	progress->last_done = done;
	g_ptr_array_add(progress->names, g_strdup(dir_name));
	if (done == total)
		feed_fds(progress);
	if (progress->cancel != NULL)
		g_cancellable_cancel(progress->cancel);
}

static void
store_result_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	GAsyncResult **out = user_data;

	*out = g_object_ref(res);
}

/* the main loop keeps running while a scan works, so a scan stuck in a worker fails here */
static gboolean
deadline_cb(gpointer user_data)
{
	g_error("%s did not finish within %d s", (const char *)user_data, DEADLINE_S);
	return G_SOURCE_REMOVE;
}

static StdiolinkDriverScanResult *
run_scan(const char *drivers,
	 const StdiolinkDriverScanOptions *options,
	 Progress *progress,
	 GCancellable *cancellable,
	 GError **error)
{
	GAsyncResult *res = NULL;
	StdiolinkDriverScanResult *result;
	guint deadline = g_timeout_add_seconds(DEADLINE_S, deadline_cb, "the driver scan");

	stdiolink_driver_scan_async(drivers, options, progress_cb, progress, cancellable,
				    store_result_cb, &res);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(deadline);
	result = stdiolink_driver_scan_finish(res, error);
	g_object_unref(res);
	return result;
}

/* "dir:code dir:code ..." in the order of the result */
static char *
failures_text(StdiolinkDriverScanResult *result)
{
	GString *text = g_string_new(NULL);

	for (guint i = 0; i < result->failures->len; i++) {
		StdiolinkDriverScanFailure *failure = g_ptr_array_index(result->failures, i);

		g_assert_nonnull(failure->message);
		g_assert_cmpstr(failure->message, !=, "");
		g_string_append_printf(text, "%s%s:%s", i > 0 ? " " : "", failure->dir_name,
				       failure->code);
	}
	return g_string_free(text, FALSE);
}

static const char *
failure_message(StdiolinkDriverScanResult *result, const char *dir_name)
{
	for (guint i = 0; i < result->failures->len; i++) {
		StdiolinkDriverScanFailure *failure = g_ptr_array_index(result->failures, i);

		if (g_str_equal(failure->dir_name, dir_name))
			return failure->message;
	}
	return NULL;
}

/* "id@folder id@folder ..." */
static char *
drivers_text(StdiolinkDriverScanResult *result)
{
	GString *text = g_string_new(NULL);

	for (guint i = 0; i < result->drivers->len; i++) {
		StdiolinkDriver *driver = g_ptr_array_index(result->drivers, i);
		g_autofree char *folder = g_path_get_basename(stdiolink_driver_get_dir(driver));

		g_string_append_printf(text, "%s%s@%s", i > 0 ? " " : "",
				       stdiolink_driver_get_id(driver), folder);
	}
	return g_string_free(text, FALSE);
}

static GStrv
read_log(const char *root)
{
	g_autofree char *path = g_build_filename(root, "export.log", NULL);
	g_autofree char *contents = NULL;

	if (!g_file_get_contents(path, &contents, NULL, NULL))
		return g_new0(char *, 1);
	g_strstrip(contents);
	return g_strsplit(contents, "\n", -1);
}

static gboolean
log_has(GStrv lines, const char *line)
{
	return g_strv_contains((const char *const *)lines, line);
}

static gboolean
exists(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	return g_file_test(path, G_FILE_TEST_EXISTS);
}

static char *
read_in(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	return sl_test_read_file(path);
}

/* the process named in @dir/@name has ended; an orphan is given up to 5 s to die */
static void
assert_process_gone(const char *dir, const char *name)
{
	g_autofree char *text = read_in(dir, name);
	pid_t pid = (pid_t)g_ascii_strtoll(text, NULL, 10);

	g_assert_cmpint(pid, >, 0);
	for (guint i = 0; i < 500 && !sl_test_process_gone(pid); i++)
		g_usleep(10000);
	g_assert_true(sl_test_process_gone(pid));
}

static void
assert_not_renamed(const char *drivers, const char *name)
{
	g_autofree char *failed = g_strconcat(name, ".failed", NULL);

	g_assert_true(exists(drivers, name));
	g_assert_false(exists(drivers, failed));
}

static void
assert_renamed(const char *drivers, const char *name)
{
	g_autofree char *failed = g_strconcat(name, ".failed", NULL);

	g_assert_false(exists(drivers, name));
	g_assert_true(exists(drivers, failed));
}

/* neither note of a running export is left in @dir */
static void
assert_no_notes(const char *dir)
{
	g_assert_false(exists(dir, PREV_NOTE));
	g_assert_false(exists(dir, MARKER_NOTE));
}

/* a quarantined folder holds neither the broken meta file nor a note */
static void
assert_renamed_clean(const char *drivers, const char *name)
{
	g_autofree char *failed = g_strconcat(drivers, "/", name, ".failed", NULL);

	assert_renamed(drivers, name);
	g_assert_false(exists(failed, "driver.meta.json"));
	assert_no_notes(failed);
}

static guint
count_lines(GStrv lines, const char *line)
{
	guint n = 0;

	for (guint i = 0; lines[i] != NULL; i++)
		n += g_str_equal(lines[i], line);
	return n;
}

static void
make_fifo(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);

	g_assert_cmpint(mkfifo(path, 0644), ==, 0);
}

static gboolean
is_fifo(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	GStatBuf st;

	return g_lstat(path, &st) == 0 && S_ISFIFO(st.st_mode);
}

static int
file_mode(const char *dir, const char *name)
{
	g_autofree char *path = g_build_filename(dir, name, NULL);
	GStatBuf st;

	g_assert_cmpint(g_stat(path, &st), ==, 0);
	return (int)(st.st_mode & 07777);
}

/* ---- tests ------------------------------------------------------------------------- */

/* ---- a data root per test ---------------------------------------------------------------- */

/* every test gets a folder of its own, with the path of its drivers/ (not created) */
typedef struct {
	char *root;
	char *drivers;
} ScanFixture;

static void
fixture_setup(ScanFixture *fx, gconstpointer unused)
{
	fx->root = sl_test_make_tmp_dir("stdiolink-dscan-XXXXXX");
	fx->drivers = g_build_filename(fx->root, "drivers", NULL);
}

static void
fixture_teardown(ScanFixture *fx, gconstpointer unused)
{
	sl_test_remove_tree(fx->root);
	g_free(fx->drivers);
	g_free(fx->root);
}

#define add_scan_test(path, func)                                                          \
	g_test_add(path, ScanFixture, NULL, fixture_setup, func, fixture_teardown)

static void
test_scan_mixed_func(ScanFixture *fx, gconstpointer unused)
{
	static const char *const made[][2] = {
		{"a_fast", "ok drv.a"},	    {"b_slow", "ok drv.b 100"}, {"c_hang", "hang"},
		{"d_exit", "exit 2"},	    {"e_invalid", "invalid"},	{"f_huge", "huge drv.f"},
		{"g_noid", "noid"},	    {"h_array", "array"},	{"i_noexe", NULL},
		{"j_old.failed", "ok drv.j"}, {"k_blocked", "exit 1"},	{"k_blocked.failed", NULL},
		{"l_nowrite", "nowrite"},   {"m_dup", "ok drv.a"},
	};
	StdiolinkDriverScanOptions options = {TRUE, 4, 500, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autoptr(GPtrArray) sorted = NULL;
	g_autofree char *failures = NULL;
	g_autofree char *loaded = NULL;
	g_autofree char *hang_dir = g_build_filename(fx->drivers, "c_hang.failed", NULL);
	g_auto(GStrv) log = NULL;
	Progress progress;

	for (guint i = 0; i < G_N_ELEMENTS(made); i++)
		g_free(make_driver(fx->drivers, made[i][0], made[i][1], NULL));

	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);

	g_assert_cmpuint(result->stats.scanned, ==, 12);
	g_assert_cmpuint(result->stats.skipped_failed, ==, 2);
	g_assert_cmpuint(result->stats.newly_failed, ==, 7);
	g_assert_cmpuint(result->stats.updated, ==, 3);

	/* sorted by id; a later folder replaces an earlier one with the same id */
	loaded = drivers_text(result);
	g_assert_cmpstr(loaded, ==, "drv.a@m_dup drv.b@b_slow");

	failures = failures_text(result);
	g_assert_cmpstr(failures, ==,
			"c_hang:scan_timeout d_exit:export_failed e_invalid:export_failed "
			"f_huge:export_failed g_noid:invalid_data h_array:export_failed "
			"i_noexe:invalid_data k_blocked:export_failed l_nowrite:export_failed");
	g_assert_nonnull(strstr(failure_message(result, "d_exit"), "code 2"));
	g_assert_nonnull(strstr(failure_message(result, "f_huge"), "larger"));

	/* each failure and the blocked rename are logged, naming the folder */
	g_assert_cmpuint(scan_warnings->len, ==, result->failures->len + 1);
	for (guint i = 0; i < scan_warnings->len; i++)
		g_assert_true(g_str_has_prefix(scan_warnings->pdata[i], fx->drivers));
	g_ptr_array_set_size(scan_warnings, 0);

	/* quarantine: first-time failures only, never over an existing .failed folder; what
	 * the failed exports wrote is gone either way */
	assert_renamed_clean(fx->drivers, "c_hang");
	assert_renamed_clean(fx->drivers, "d_exit");
	assert_renamed_clean(fx->drivers, "e_invalid");
	assert_renamed_clean(fx->drivers, "f_huge");
	assert_renamed_clean(fx->drivers, "h_array");
	assert_renamed_clean(fx->drivers, "i_noexe");
	assert_renamed_clean(fx->drivers, "l_nowrite");
	g_assert_true(exists(fx->drivers, "k_blocked"));
	g_assert_true(exists(fx->drivers, "k_blocked.failed"));
	g_assert_false(exists(fx->drivers, "k_blocked/driver.meta.json"));
	assert_not_renamed(fx->drivers, "a_fast");
	assert_not_renamed(fx->drivers, "g_noid");
	g_assert_true(exists(fx->drivers, "g_noid/driver.meta.json"));
	for (guint i = 0; i < G_N_ELEMENTS(made); i++) {
		g_autofree char *dir = g_build_filename(fx->drivers, made[i][0], NULL);

		if (g_file_test(dir, G_FILE_TEST_IS_DIR))
			assert_no_notes(dir);
	}

	/* the timed-out export and its child were killed as a group */
	log = read_log(fx->root);
	g_assert_false(log_has(log, "end c_hang"));
	assert_process_gone(hang_dir, "pid");
	assert_process_gone(hang_dir, "child-pid");

	/* a .failed folder is never run */
	g_assert_true(log_has(log, "start a_fast"));
	g_assert_false(log_has(log, "start j_old.failed"));

	/* the total first, then every scanned folder once; the one without an export first,
	 * before any export */
	g_assert_true(progress.listed);
	g_assert_cmpuint(progress.last_done, ==, 12);
	g_assert_cmpuint(progress.total, ==, 12);
	g_assert_cmpstr(progress.names->pdata[0], ==, "i_noexe");
	sorted = g_ptr_array_new();
	for (guint i = 0; i < progress.names->len; i++)
		g_ptr_array_add(sorted, progress.names->pdata[i]);
	stdiolink_scan_sort_names(sorted);
	for (guint i = 0, j = 0; i < G_N_ELEMENTS(made); i++) {
		if (made[i][0] == NULL || g_str_has_suffix(made[i][0], ".failed"))
			continue;
		g_assert_cmpstr(sorted->pdata[j++], ==, made[i][0]);
	}

	progress_clear(&progress);
}

static void
test_scan_refresh_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_exit", "exit 3", OLD_META("drv.a.old"));
	g_autofree char *b = make_driver(fx->drivers, "b_hang", "hang", OLD_META("drv.b.old"));
	g_autofree char *c =
	    make_driver(fx->drivers, "c_ok", "ok drv.c.new", OLD_META("drv.c.old"));
	StdiolinkDriverScanOptions options = {TRUE, 0, 300, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *failures = NULL;
	g_autofree char *loaded = NULL;
	g_autofree char *meta_a = NULL;
	g_autofree char *meta_b = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);

	/* a failed refresh is no quarantine: the old metadata stays and is loaded */
	g_assert_cmpuint(result->stats.scanned, ==, 3);
	g_assert_cmpuint(result->stats.updated, ==, 3);
	g_assert_cmpuint(result->stats.newly_failed, ==, 0);
	failures = failures_text(result);
	g_assert_cmpstr(failures, ==, "a_exit:export_failed b_hang:scan_timeout");
	g_assert_nonnull(strstr(failure_message(result, "b_hang"), "300 ms"));
	loaded = drivers_text(result);
	g_assert_cmpstr(loaded, ==, "drv.a.old@a_exit drv.b.old@b_hang drv.c.new@c_ok");
	g_assert_cmpuint(scan_warnings->len, ==, 2);
	g_ptr_array_set_size(scan_warnings, 0);

	/* both exports did overwrite the file; the scan put the old bytes back */
	log = read_log(fx->root);
	g_assert_true(log_has(log, "end a_exit"));
	g_assert_true(log_has(log, "start b_hang"));
	g_assert_false(log_has(log, "end b_hang"));
	meta_a = read_in(a, "driver.meta.json");
	meta_b = read_in(b, "driver.meta.json");
	g_assert_cmpstr(meta_a, ==, OLD_META("drv.a.old"));
	g_assert_cmpstr(meta_b, ==, OLD_META("drv.b.old"));
	assert_not_renamed(fx->drivers, "a_exit");
	assert_not_renamed(fx->drivers, "b_hang");
	assert_process_gone(b, "pid");
	assert_process_gone(b, "child-pid");
	assert_no_notes(a);
	assert_no_notes(b);
	assert_no_notes(c);

	g_assert_cmpuint(progress.last_done, ==, 3);
	g_assert_cmpuint(progress.total, ==, 3);
	progress_clear(&progress);
}

static void
test_scan_no_refresh_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a =
	    make_driver(fx->drivers, "a_meta", "ok drv.a.new", OLD_META("drv.a.old"));
	g_autofree char *b = make_driver(fx->drivers, "b_nometa", "ok drv.b", NULL);
	StdiolinkDriverScanOptions options = {FALSE, 1, 0, "/nonexistent/sl-prefix"};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *loaded = NULL;
	g_autofree char *meta_a = NULL;
	g_autofree char *env = NULL;
	g_autofree char *cwd = g_get_current_dir();
	g_autofree char *expected_cwd = g_strdup_printf("\ncwd=%s\n", cwd);
	g_auto(GStrv) log = NULL;
	Progress progress;

	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);

	g_assert_cmpuint(result->stats.scanned, ==, 2);
	g_assert_cmpuint(result->stats.updated, ==, 2);
	g_assert_cmpuint(result->failures->len, ==, 0);
	loaded = drivers_text(result);
	g_assert_cmpstr(loaded, ==, "drv.a.old@a_meta drv.b@b_nometa");

	/* the folder with metadata was not run; the one without was, exactly once */
	log = read_log(fx->root);
	g_assert_cmpuint(g_strv_length(log), ==, 2);
	g_assert_cmpstr(log[0], ==, "start b_nometa");
	g_assert_cmpstr(log[1], ==, "end b_nometa");
	g_assert_false(exists(a, "pid"));
	meta_a = read_in(a, "driver.meta.json");
	g_assert_cmpstr(meta_a, ==, OLD_META("drv.a.old"));

	/* the export ran in our folder with the prefix in front of PATH */
	env = read_in(b, "env");
	g_assert_true(g_str_has_prefix(env, "PATH=/nonexistent/sl-prefix:"));
	g_assert_nonnull(strstr(env, expected_cwd));

	g_assert_cmpuint(progress.last_done, ==, 2);
	g_assert_cmpuint(progress.total, ==, 2);
	progress_clear(&progress);
}

/*
 * The most exports that ran at once, from the start and end lines in the export log; an
 * export logs its end before it exits, and the next starts after that exit. Each of the
 * @n_exports ran once and ended.
 */
static guint
most_at_once(const char *root, guint n_exports)
{
	g_auto(GStrv) log = read_log(root);
	guint running = 0;
	guint most = 0;

	g_assert_cmpuint(g_strv_length(log), ==, 2 * n_exports);
	for (guint i = 0; log[i] != NULL; i++) {
		if (g_str_has_prefix(log[i], "start "))
			running++;
		else
			running--;
		most = MAX(most, running);
	}
	g_assert_cmpuint(running, ==, 0);
	return most;
}

static void
test_scan_parallelism_func(ScanFixture *fx, gconstpointer unused)
{
	StdiolinkDriverScanOptions options = {TRUE, 2, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	Progress progress;

	/*
	 * each waits for a second one to start, so that two do run together, then lingers so
	 * that a scan without a bound would have them all running at once
	 */
	for (guint i = 0; i < 6; i++) {
		g_autofree char *name = g_strdup_printf("p%u", i);
		g_autofree char *behaviour = g_strdup_printf("wait-peers 2 drv.p%u 150", i);

		g_free(make_driver(fx->drivers, name, behaviour, NULL));
	}

	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(result->stats.updated, ==, 6);
	g_assert_cmpuint(result->drivers->len, ==, 6);

	g_assert_cmpuint(most_at_once(fx->root, 6), ==, 2);

	g_assert_cmpuint(progress.last_done, ==, 6);
	progress_clear(&progress);
}

typedef struct {
	GCancellable *cancellable;
	const char *drivers;
	guint ticks;
} CancelWhen;

static gboolean
cancel_when_started_cb(gpointer user_data)
{
	CancelWhen *when = user_data;
	static const char *const traces[] = {"a_hang/child-pid", "b_hang/child-pid",
					     "c_slow/pid", "d_fast/pid", "f_exit/pid"};
	gboolean ready = TRUE;

	for (guint i = 0; i < G_N_ELEMENTS(traces); i++)
		ready = ready && exists(when->drivers, traces[i]);

	/* give up after 10 s; the assertions then tell what did not start */
	if (!ready && ++when->ticks < 1000)
		return G_SOURCE_CONTINUE;
	g_cancellable_cancel(when->cancellable);
	return G_SOURCE_REMOVE;
}

static void
test_scan_cancel_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_hang", "hang", NULL);
	g_autofree char *b = make_driver(fx->drivers, "b_hang", "hang", OLD_META("drv.b.old"));
	g_autofree char *c = make_driver(fx->drivers, "c_slow", "ok drv.c 20000", NULL);
	g_autofree char *d = make_driver(fx->drivers, "d_fast", "ok drv.d", NULL);
	g_autofree char *e = make_driver(fx->drivers, "e_noexe", NULL, NULL);
	g_autofree char *f = make_driver(fx->drivers, "f_exit", "exit 1", NULL);
	const char *const folders[] = {a, b, c, d, e, f};
	const char *const names[] = {"a_hang", "b_hang", "c_slow", "d_fast", "e_noexe", "f_exit"};
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	StdiolinkDriverScanOptions options = {TRUE, 8, 60000, NULL};
	CancelWhen when = {cancellable, fx->drivers, 0};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *meta_b = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	g_timeout_add(10, cancel_when_started_cb, &when);
	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, cancellable, &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(result);
	g_assert_cmpuint(when.ticks, <, 1000);

	/* the exports and their children were killed: none ended by itself */
	log = read_log(fx->root);
	g_assert_false(log_has(log, "end a_hang"));
	g_assert_false(log_has(log, "end b_hang"));
	g_assert_false(log_has(log, "end c_slow"));
	assert_process_gone(a, "pid");
	assert_process_gone(a, "child-pid");
	assert_process_gone(b, "pid");
	assert_process_gone(b, "child-pid");
	assert_process_gone(c, "pid");

	/* what they wrote is undone, and nothing was renamed */
	meta_b = read_in(b, "driver.meta.json");
	g_assert_cmpstr(meta_b, ==, OLD_META("drv.b.old"));
	for (guint i = 0; i < G_N_ELEMENTS(folders); i++) {
		if (folders[i] != b)
			g_assert_false(exists(folders[i], "driver.meta.json"));
		assert_not_renamed(fx->drivers, names[i]);
		assert_no_notes(folders[i]);
	}
	g_assert_cmpuint(scan_warnings->len, ==, 0);

	/* the folder without an export was done before the cancel; no progress followed */
	g_assert_cmpuint(progress.names->len, >=, 1);
	g_assert_cmpstr(progress.names->pdata[0], ==, "e_noexe");
	g_assert_cmpuint(progress.last_done, <, 6);
	progress_clear(&progress);
}

static void
test_scan_cancel_before_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_nometa", "ok drv.a", NULL);
	g_autofree char *b = make_driver(fx->drivers, "b_noexe", NULL, NULL);
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	StdiolinkDriverScanOptions options = {TRUE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	g_cancellable_cancel(cancellable);
	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, cancellable, &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(result);

	/* nothing ran, nothing moved */
	log = read_log(fx->root);
	g_assert_cmpuint(g_strv_length(log), ==, 0);
	g_assert_false(exists(a, "driver.meta.json"));
	assert_not_renamed(fx->drivers, "a_nometa");
	assert_not_renamed(fx->drivers, "b_noexe");
	g_assert_false(progress.listed);
	g_assert_cmpuint(progress.names->len, ==, 0);
	progress_clear(&progress);
}

static void
test_scan_missing_dir_func(ScanFixture *fx, gconstpointer unused)
{
	StdiolinkDriverScanOptions options = {TRUE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	Progress progress;

	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(result->drivers->len, ==, 0);
	g_assert_cmpuint(result->failures->len, ==, 0);
	g_assert_cmpuint(result->stats.scanned, ==, 0);
	g_assert_cmpuint(result->stats.updated, ==, 0);
	g_assert_cmpuint(result->stats.newly_failed, ==, 0);
	g_assert_cmpuint(result->stats.skipped_failed, ==, 0);
	g_assert_true(progress.listed);
	g_assert_cmpuint(progress.total, ==, 0);
	g_assert_cmpuint(progress.names->len, ==, 0);
	g_assert_false(g_file_test(fx->drivers, G_FILE_TEST_EXISTS));
	progress_clear(&progress);
}

/* a FIFO for a meta file, or for the copy of one, neither hangs the scan nor is exported */
static void
run_fifo_scan(gboolean refresh_meta)
{
	g_autofree char *root = sl_test_make_tmp_dir("stdiolink-dscan-XXXXXX");
	g_autofree char *drivers = g_build_filename(root, "drivers", NULL);
	g_autofree char *a = make_driver(drivers, "a_fifo", "ok drv.a", NULL);
	g_autofree char *b = make_driver(drivers, "b_fifo_prev", "ok drv.b.new",
					 OLD_META("drv.b.old"));
	g_autofree char *c = make_driver(drivers, "c_ok", "ok drv.c", NULL);
	StdiolinkDriverScanOptions options = {refresh_meta, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *failures = NULL;
	g_autofree char *loaded = NULL;
	g_autofree char *meta_b = NULL;
	g_auto(GStrv) log = NULL;
	const char *message;
	Progress progress;

	make_fifo(a, "driver.meta.json");
	make_fifo(b, PREV_NOTE);

	progress_init(&progress);
	result = run_scan(drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);

	/* both are reported and left alone; the scan goes on with the others */
	g_assert_cmpuint(result->stats.scanned, ==, 3);
	g_assert_cmpuint(result->stats.updated, ==, 1);
	g_assert_cmpuint(result->stats.newly_failed, ==, 0);
	failures = failures_text(result);
	g_assert_cmpstr(failures, ==, "a_fifo:invalid_data b_fifo_prev:invalid_data");
	message = failure_message(result, "a_fifo");
	g_assert_nonnull(strstr(message, "driver.meta.json is not a regular file"));
	message = failure_message(result, "b_fifo_prev");
	g_assert_true(g_str_has_prefix(message, "cannot settle an interrupted export: "));
	g_assert_nonnull(strstr(message, PREV_NOTE " is not a regular file"));
	loaded = drivers_text(result);
	g_assert_cmpstr(loaded, ==, "drv.c@c_ok");
	g_assert_cmpuint(scan_warnings->len, ==, 2);
	g_ptr_array_set_size(scan_warnings, 0);

	/* no export wrote into the FIFO, and nothing replaced either FIFO */
	log = read_log(root);
	g_assert_cmpuint(count_lines(log, "start a_fifo"), ==, 0);
	g_assert_cmpuint(count_lines(log, "start b_fifo_prev"), ==, 0);
	g_assert_cmpuint(count_lines(log, "start c_ok"), ==, 1);
	g_assert_true(is_fifo(a, "driver.meta.json"));
	g_assert_true(is_fifo(b, PREV_NOTE));
	meta_b = read_in(b, "driver.meta.json");
	g_assert_cmpstr(meta_b, ==, OLD_META("drv.b.old"));
	assert_not_renamed(drivers, "a_fifo");
	assert_not_renamed(drivers, "b_fifo_prev");
	assert_no_notes(c);

	g_assert_cmpuint(progress.last_done, ==, 3);
	progress_clear(&progress);
	sl_test_remove_tree(root);
}

static void
test_scan_fifo_meta_func(void)
{
	run_fifo_scan(FALSE);
	run_fifo_scan(TRUE);
}

typedef struct {
	const char *drivers;
	StdiolinkDriverScanStats stats;
} CatalogLoad;

static void
catalog_load_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	CatalogLoad *load = task_data;
	GPtrArray *catalog = stdiolink_driver_catalog_load(load->drivers, &load->stats);

	g_task_return_pointer(task, catalog, (GDestroyNotify)g_ptr_array_unref);
}

/* the synchronous loader in a thread, so that a read stuck on a FIFO fails the test */
static GPtrArray *
load_catalog(const char *drivers, StdiolinkDriverScanStats *stats)
{
	CatalogLoad load = {drivers, {0}};
	GAsyncResult *res = NULL;
	g_autoptr(GTask) task = g_task_new(NULL, NULL, store_result_cb, &res);
	guint deadline = g_timeout_add_seconds(DEADLINE_S, deadline_cb, "the catalog load");
	GPtrArray *catalog;

	g_task_set_task_data(task, &load, NULL);
	g_task_run_in_thread(task, catalog_load_thread);
	while (res == NULL)
		g_main_context_iteration(NULL, TRUE);
	g_source_remove(deadline);
	catalog = g_task_propagate_pointer(G_TASK(res), NULL);
	g_object_unref(res);
	*stats = load.stats;
	return catalog;
}

static void
test_load_capped_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_fifo", "ok drv.a", NULL);
	g_autofree char *b = make_driver(fx->drivers, "b_huge", "ok drv.b", NULL);
	g_autofree char *c = make_driver(fx->drivers, "c_ok", "ok drv.c", OLD_META("drv.c"));
	g_autoptr(GString) huge = g_string_new("{\"info\": {\"id\": \"drv.b\"}, \"pad\": \"");
	g_autoptr(GPtrArray) catalog = NULL;
	StdiolinkDriverScanStats stats;

	/* a valid meta file just over the 8 MiB cap */
	make_fifo(a, "driver.meta.json");
	while (huge->len < 8 * 1024 * 1024)
		g_string_append_c(huge, 'x');
	g_string_append(huge, "\"}\n");
	sl_test_write_file(b, "driver.meta.json", huge->str, 0644);

	catalog = load_catalog(fx->drivers, &stats);
	g_assert_cmpuint(stats.scanned, ==, 3);
	g_assert_cmpuint(stats.updated, ==, 1);
	g_assert_cmpuint(catalog->len, ==, 1);
	g_assert_cmpstr(stdiolink_driver_get_id(catalog->pdata[0]), ==, "drv.c");

	g_assert_cmpuint(scan_warnings->len, ==, 2);
	g_assert_true(g_str_has_prefix(scan_warnings->pdata[0], a));
	g_assert_nonnull(strstr(scan_warnings->pdata[0], "driver.meta.json is not a regular file"));
	g_assert_true(g_str_has_prefix(scan_warnings->pdata[1], b));
	g_assert_nonnull(strstr(scan_warnings->pdata[1], "is larger than 8388608 bytes"));
	g_ptr_array_set_size(scan_warnings, 0);
}

static void
test_scan_unreadable_folder_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = NULL;
	g_autofree char *b = NULL;
	g_autofree char *c = NULL;
	g_autofree char *expected = NULL;
	g_autofree char *failures = NULL;
	g_autofree char *loaded = NULL;
	StdiolinkDriverScanOptions options = {TRUE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	if (geteuid() == 0) {
		g_test_skip("root reads every folder whatever its permissions");
		return;
	}
	a = make_driver(fx->drivers, "a_locked", "ok drv.a", NULL);
	b = make_driver(fx->drivers, "b_ok", "ok drv.b", NULL);
	c = make_driver(fx->drivers, "c_nosearch", "ok drv.c", NULL);

	/* a_locked can be neither listed nor entered, c_nosearch only listed */
	g_assert_cmpint(g_chmod(a, 0), ==, 0);
	g_assert_cmpint(g_chmod(c, 0644), ==, 0);
	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);

	/* unchecked: a wrong scan may have renamed them, which the checks below tell */
	g_chmod(a, 0755);
	g_chmod(c, 0755);
	g_assert_no_error(error);

	/* reported, counted as scanned, but neither exported nor quarantined */
	g_assert_cmpuint(result->stats.scanned, ==, 3);
	g_assert_cmpuint(result->stats.updated, ==, 1);
	g_assert_cmpuint(result->stats.newly_failed, ==, 0);
	failures = failures_text(result);
	g_assert_cmpstr(failures, ==, "a_locked:invalid_data c_nosearch:invalid_data");
	expected = g_strdup_printf("cannot read driver folder: %s", g_strerror(EACCES));
	g_assert_cmpstr(failure_message(result, "a_locked"), ==, expected);
	g_assert_cmpstr(failure_message(result, "c_nosearch"), ==, expected);
	loaded = drivers_text(result);
	g_assert_cmpstr(loaded, ==, "drv.b@b_ok");
	g_assert_cmpuint(scan_warnings->len, ==, 2);
	g_ptr_array_set_size(scan_warnings, 0);

	log = read_log(fx->root);
	g_assert_cmpuint(count_lines(log, "start a_locked"), ==, 0);
	g_assert_cmpuint(count_lines(log, "start c_nosearch"), ==, 0);
	assert_not_renamed(fx->drivers, "a_locked");
	assert_not_renamed(fx->drivers, "c_nosearch");
	g_assert_false(exists(a, "driver.meta.json"));
	assert_no_notes(a);

	g_assert_cmpuint(progress.last_done, ==, 3);
	g_assert_cmpuint(progress.total, ==, 3);
	progress_clear(&progress);
}

/* what a daemon killed during a refresh leaves: the copy, and garbage in the meta file */
static void
lay_out_killed_refresh(const char *dir, const char *old_meta)
{
	sl_test_write_file(dir, "driver.meta.json", "garbage", 0644);
	sl_test_write_file(dir, PREV_NOTE, old_meta, 0640);
}

static void
test_scan_recover_refresh_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_fail", "exit 1", NULL);
	g_autofree char *b = make_driver(fx->drivers, "b_ok", "ok drv.b.new", NULL);
	StdiolinkDriverScanOptions keep = {FALSE, 0, 0, NULL};
	StdiolinkDriverScanOptions refresh = {TRUE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) first = NULL;
	g_autoptr(StdiolinkDriverScanResult) second = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *loaded = NULL;
	g_autofree char *failures = NULL;
	g_autofree char *meta_a = NULL;
	g_autofree char *meta_b = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	/* without a refresh: the old files come back, as they were, and are loaded */
	lay_out_killed_refresh(a, OLD_META("drv.a.old"));
	lay_out_killed_refresh(b, OLD_META("drv.b.old"));
	progress_init(&progress);
	first = run_scan(fx->drivers, &keep, &progress, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(first->failures->len, ==, 0);
	g_assert_cmpuint(first->stats.updated, ==, 2);
	loaded = drivers_text(first);
	g_assert_cmpstr(loaded, ==, "drv.a.old@a_fail drv.b.old@b_ok");
	meta_a = read_in(a, "driver.meta.json");
	g_assert_cmpstr(meta_a, ==, OLD_META("drv.a.old"));
	g_assert_cmpint(file_mode(a, "driver.meta.json"), ==, 0640);
	assert_no_notes(a);
	assert_no_notes(b);
	log = read_log(fx->root);
	g_assert_cmpuint(g_strv_length(log), ==, 0);
	progress_clear(&progress);

	/* with a refresh: recovered first, then refreshed as usual */
	lay_out_killed_refresh(a, OLD_META("drv.a.old"));
	lay_out_killed_refresh(b, OLD_META("drv.b.old"));
	progress_init(&progress);
	second = run_scan(fx->drivers, &refresh, &progress, NULL, &error);
	g_assert_no_error(error);
	failures = failures_text(second);
	g_assert_cmpstr(failures, ==, "a_fail:export_failed");
	g_clear_pointer(&loaded, g_free);
	loaded = drivers_text(second);
	g_assert_cmpstr(loaded, ==, "drv.a.old@a_fail drv.b.new@b_ok");
	g_clear_pointer(&meta_a, g_free);
	meta_a = read_in(a, "driver.meta.json");
	g_assert_cmpstr(meta_a, ==, OLD_META("drv.a.old"));
	meta_b = read_in(b, "driver.meta.json");
	g_assert_nonnull(strstr(meta_b, "drv.b.new"));
	assert_no_notes(a);
	assert_no_notes(b);
	g_assert_cmpuint(scan_warnings->len, ==, 1);
	g_ptr_array_set_size(scan_warnings, 0);

	progress_clear(&progress);
}

/* what a daemon killed during a first export leaves: the marker and a meta file that would
 * load, though the export never finished */
static char *
make_killed_first_export(const char *drivers, const char *name, const char *behaviour)
{
	char *dir = make_driver(drivers, name, behaviour, OLD_META("drv.partial"));

	sl_test_write_file(dir, MARKER_NOTE, "", 0644);
	return dir;
}

static void
test_scan_recover_first_export_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_killed_first_export(fx->drivers, "a_fail", "exit 1");
	g_autofree char *b = make_killed_first_export(fx->drivers, "b_ok", "ok drv.b");
	g_autofree char *c = make_killed_first_export(fx->drivers, "c_noexe", NULL);
	StdiolinkDriverScanOptions options = {FALSE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *failures = NULL;
	g_autofree char *loaded = NULL;
	g_autofree char *meta_b = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	/* without a refresh only a first export runs: the marked folders are first exports */
	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	log = read_log(fx->root);
	g_assert_cmpuint(count_lines(log, "start a_fail"), ==, 1);
	g_assert_cmpuint(count_lines(log, "start b_ok"), ==, 1);

	/* and judged as such: a failure is quarantined, without the partial file */
	g_assert_cmpuint(result->stats.scanned, ==, 3);
	g_assert_cmpuint(result->stats.newly_failed, ==, 2);
	g_assert_cmpuint(result->stats.updated, ==, 1);
	failures = failures_text(result);
	g_assert_cmpstr(failures, ==, "a_fail:export_failed c_noexe:invalid_data");
	loaded = drivers_text(result);
	g_assert_cmpstr(loaded, ==, "drv.b@b_ok");
	assert_renamed_clean(fx->drivers, "a_fail");
	assert_renamed_clean(fx->drivers, "c_noexe");
	assert_not_renamed(fx->drivers, "b_ok");
	assert_no_notes(b);
	meta_b = read_in(b, "driver.meta.json");
	g_assert_nonnull(strstr(meta_b, "\"exported\""));
	g_assert_cmpuint(scan_warnings->len, ==, 2);
	g_ptr_array_set_size(scan_warnings, 0);

	progress_clear(&progress);
}

static void
test_scan_rename_refused_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_bad", "exit 1", NULL);
	g_autofree char *blocker = make_driver(fx->drivers, "a_bad.failed", NULL, NULL);
	StdiolinkDriverScanOptions options = {FALSE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) first = NULL;
	g_autoptr(StdiolinkDriverScanResult) second = NULL;
	g_autoptr(GError) error = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	/* the rename is refused: the folder stays, but not the broken file its export wrote */
	progress_init(&progress);
	first = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(first->stats.newly_failed, ==, 0);
	g_assert_cmpuint(first->failures->len, ==, 1);
	g_assert_true(exists(fx->drivers, "a_bad"));
	g_assert_false(exists(a, "driver.meta.json"));
	assert_no_notes(a);
	g_assert_cmpuint(scan_warnings->len, ==, 2);
	g_ptr_array_set_size(scan_warnings, 0);
	progress_clear(&progress);

	/* so the next scan exports it again as a first export, and quarantines it */
	g_assert_true(sl_test_remove_tree(blocker));
	progress_init(&progress);
	second = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	log = read_log(fx->root);
	g_assert_cmpuint(count_lines(log, "start a_bad"), ==, 2);
	g_assert_cmpuint(second->stats.newly_failed, ==, 1);
	assert_renamed_clean(fx->drivers, "a_bad");
	g_assert_cmpuint(scan_warnings->len, ==, 1);
	g_ptr_array_set_size(scan_warnings, 0);

	progress_clear(&progress);
}

static void
test_scan_quarantine_drops_meta_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_partial", "invalid", NULL);
	g_autofree char *failed = g_strconcat(a, ".failed", NULL);
	StdiolinkDriverScanOptions options = {FALSE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) first = NULL;
	g_autoptr(StdiolinkDriverScanResult) second = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *loaded = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	progress_init(&progress);
	first = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(first->stats.newly_failed, ==, 1);
	assert_renamed_clean(fx->drivers, "a_partial");
	g_ptr_array_set_size(scan_warnings, 0);
	progress_clear(&progress);

	/* renamed back by hand once the driver is fixed, it is exported again and loaded */
	g_assert_cmpint(g_rename(failed, a), ==, 0);
	sl_test_write_file(a, "behaviour", "ok drv.a", 0644);
	progress_init(&progress);
	second = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	log = read_log(fx->root);
	g_assert_cmpuint(count_lines(log, "start a_partial"), ==, 2);
	g_assert_cmpuint(second->failures->len, ==, 0);
	loaded = drivers_text(second);
	g_assert_cmpstr(loaded, ==, "drv.a@a_partial");
	assert_no_notes(a);

	progress_clear(&progress);
}

static void
test_scan_symlinked_meta_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_link", "exit 1", NULL);
	g_autofree char *link = g_build_filename(a, "driver.meta.json", NULL);
	g_autofree char *shared = NULL;
	StdiolinkDriverScanOptions options = {TRUE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *loaded = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	/* a meta file kept elsewhere; the failing export writes garbage through the link */
	sl_test_write_file(fx->root, "shared.json", OLD_META("drv.a.old"), 0644);
	g_assert_cmpint(symlink("../../shared.json", link), ==, 0);

	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	log = read_log(fx->root);
	g_assert_cmpuint(count_lines(log, "end a_link"), ==, 1);

	/* the old bytes went back through the link, which stays a link */
	loaded = drivers_text(result);
	g_assert_cmpstr(loaded, ==, "drv.a.old@a_link");
	g_assert_true(g_file_test(link, G_FILE_TEST_IS_SYMLINK));
	shared = read_in(fx->root, "shared.json");
	g_assert_cmpstr(shared, ==, OLD_META("drv.a.old"));
	assert_no_notes(a);
	g_assert_cmpuint(scan_warnings->len, ==, 1);
	g_ptr_array_set_size(scan_warnings, 0);

	progress_clear(&progress);
}

static void
test_scan_cancel_after_listing_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_noexe", NULL, NULL);
	g_autofree char *b = make_driver(fx->drivers, "b_first", "ok drv.b", NULL);
	g_autofree char *c = make_driver(fx->drivers, "c_refresh", "ok drv.c.new",
					 OLD_META("drv.c.old"));
	g_autoptr(GCancellable) cancellable = g_cancellable_new();
	StdiolinkDriverScanOptions options = {TRUE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *meta_c = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	/* the folder without an export is done first; cancelling there starts no export,
	 * after the notes for b and c were written */
	progress_init(&progress);
	progress.cancel = cancellable;
	result = run_scan(fx->drivers, &options, &progress, cancellable, &error);
	g_assert_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
	g_assert_null(result);
	g_assert_cmpuint(progress.names->len, ==, 1);

	log = read_log(fx->root);
	g_assert_cmpuint(g_strv_length(log), ==, 0);
	assert_no_notes(a);
	assert_no_notes(b);
	assert_no_notes(c);
	g_assert_false(exists(b, "driver.meta.json"));
	meta_c = read_in(c, "driver.meta.json");
	g_assert_cmpstr(meta_c, ==, OLD_META("drv.c.old"));
	assert_not_renamed(fx->drivers, "a_noexe");
	assert_not_renamed(fx->drivers, "b_first");
	assert_not_renamed(fx->drivers, "c_refresh");
	g_assert_cmpuint(scan_warnings->len, ==, 0);

	progress_clear(&progress);
}

/* the message of a postponed export: the daemon's trouble, tried again next time */
static void
assert_postponed(StdiolinkDriverScanResult *result, const char *dir_name, const char *prefix)
{
	const char *message = failure_message(result, dir_name);

	g_assert_nonnull(message);
	g_assert_true(g_str_has_prefix(message, prefix));
	g_assert_true(g_str_has_suffix(message, "; will retry on the next scan"));
}

static void
test_scan_no_fds_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_first", "ok drv.a", NULL);
	g_autofree char *b = make_driver(fx->drivers, "b_refresh", "ok drv.b.new",
					 OLD_META("drv.b.old"));
	StdiolinkDriverScanOptions options = {TRUE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) first = NULL;
	g_autoptr(StdiolinkDriverScanResult) second = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *failures = NULL;
	g_autofree char *loaded = NULL;
	g_autofree char *meta_b = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	if (!fd_limit_enforced()) {
		g_test_skip("RLIMIT_NOFILE is not enforced here (valgrind?)");
		return;
	}

	/* no descriptor left once the folders are listed: no export can start */
	progress_init(&progress);
	progress.starve_fds = TRUE;
	first = run_scan(fx->drivers, &options, &progress, NULL, &error);
	feed_fds(&progress);
	g_assert_no_error(error);
	log = read_log(fx->root);
	g_assert_cmpuint(g_strv_length(log), ==, 0);

	/* the daemon's trouble, not the fx->drivers': reported, nothing quarantined */
	g_assert_cmpuint(first->stats.scanned, ==, 2);
	g_assert_cmpuint(first->stats.newly_failed, ==, 0);
	g_assert_cmpuint(first->stats.updated, ==, 1);
	failures = failures_text(first);
	g_assert_cmpstr(failures, ==, "a_first:export_failed b_refresh:export_failed");
	assert_postponed(first, "a_first", "cannot run the metadata export: ");
	assert_postponed(first, "b_refresh", "cannot run the metadata export: ");
	g_assert_nonnull(strstr(failure_message(first, "a_first"), g_strerror(EMFILE)));
	loaded = drivers_text(first);
	g_assert_cmpstr(loaded, ==, "drv.b.old@b_refresh");
	assert_not_renamed(fx->drivers, "a_first");
	assert_not_renamed(fx->drivers, "b_refresh");
	g_assert_false(exists(a, "driver.meta.json"));
	meta_b = read_in(b, "driver.meta.json");
	g_assert_cmpstr(meta_b, ==, OLD_META("drv.b.old"));
	assert_no_notes(a);
	assert_no_notes(b);
	g_assert_cmpuint(scan_warnings->len, ==, 2);
	g_ptr_array_set_size(scan_warnings, 0);
	progress_clear(&progress);

	/* with descriptors again, the next scan runs both */
	progress_init(&progress);
	second = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(second->failures->len, ==, 0);
	g_clear_pointer(&loaded, g_free);
	loaded = drivers_text(second);
	g_assert_cmpstr(loaded, ==, "drv.a@a_first drv.b.new@b_refresh");
	assert_no_notes(a);
	assert_no_notes(b);

	progress_clear(&progress);
}

/* %FALSE under valgrind, whose own execve() takes the failure for the child's exit */
static gboolean
spawn_fails(const char *program)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(GSubprocess) proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
						       program, NULL);

	if (proc == NULL)
		return TRUE;
	g_subprocess_wait(proc, NULL, NULL);
	return FALSE;
}

static void
test_scan_bad_interpreter_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_interp", NULL, NULL);
	g_autofree char *exe = NULL;
	gboolean spawn_error;
	StdiolinkDriverScanOptions options = {FALSE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *failures = NULL;
	const char *message;
	Progress progress;

	/* a program that cannot be run is the driver's fault: a failure, quarantined */
	sl_test_write_file(a, "stdio.drv.a_interp", "#!/nonexistent/sl-interpreter\n", 0755);
	exe = g_build_filename(a, "stdio.drv.a_interp", NULL);
	spawn_error = spawn_fails(exe);
	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	failures = failures_text(result);
	g_assert_cmpstr(failures, ==, "a_interp:export_failed");
	message = failure_message(result, "a_interp");
	if (spawn_error)
		g_assert_true(g_str_has_prefix(message, "cannot run the metadata export: "));
	g_assert_null(strstr(message, "retry"));
	g_assert_cmpuint(result->stats.newly_failed, ==, 1);
	assert_renamed_clean(fx->drivers, "a_interp");
	g_assert_cmpuint(scan_warnings->len, ==, 1);
	g_ptr_array_set_size(scan_warnings, 0);

	progress_clear(&progress);
}

/* a refresh never runs without its copy, and a first export never without its marker */
static void
test_scan_unguarded_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_huge", "ok drv.a.new", NULL);
	g_autofree char *b = make_driver(fx->drivers, "b_readonly", "ok drv.b", NULL);
	g_autoptr(GString) huge = g_string_new("{\"info\": {\"id\": \"drv.a\"}, \"pad\": \"");
	StdiolinkDriverScanOptions options = {TRUE, 0, 0, NULL};
	gboolean as_root = geteuid() == 0;
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *failures = NULL;
	g_autofree char *meta_a = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	/* too large to be kept: the copy cannot be made */
	while (huge->len < 8 * 1024 * 1024)
		g_string_append_c(huge, 'x');
	g_string_append(huge, "\"}\n");
	sl_test_write_file(a, "driver.meta.json", huge->str, 0644);

	/* a folder the marker cannot be written into (fx->root writes anyway) */
	g_assert_cmpint(g_chmod(b, 0555), ==, 0);
	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_chmod(b, 0755);
	g_assert_no_error(error);

	/* not run: the big file stays as it was, and loads no better than before */
	log = read_log(fx->root);
	g_assert_cmpuint(count_lines(log, "start a_huge"), ==, 0);
	meta_a = read_in(a, "driver.meta.json");
	g_assert_cmpstr(meta_a, ==, huge->str);
	assert_postponed(result, "a_huge", "cannot prepare the metadata export: ");
	assert_not_renamed(fx->drivers, "a_huge");
	assert_no_notes(a);
	failures = failures_text(result);
	if (as_root) {
		g_assert_cmpstr(failures, ==, "a_huge:export_failed a_huge:invalid_data");
		g_assert_cmpuint(scan_warnings->len, ==, 2);
	} else {
		/* b is postponed, not quarantined */
		g_assert_cmpstr(failures, ==, "a_huge:export_failed a_huge:invalid_data "
					      "b_readonly:export_failed");
		assert_postponed(result, "b_readonly", "cannot prepare the metadata export: ");
		g_assert_cmpuint(count_lines(log, "start b_readonly"), ==, 0);
		g_assert_cmpuint(result->stats.newly_failed, ==, 0);
		assert_not_renamed(fx->drivers, "b_readonly");
		g_assert_false(exists(b, "driver.meta.json"));
		assert_no_notes(b);
		g_assert_cmpuint(scan_warnings->len, ==, 3);
	}
	g_ptr_array_set_size(scan_warnings, 0);

	progress_clear(&progress);
}

static void
test_scan_atomic_leftovers_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_left", "ok drv.a.new", OLD_META("drv.a"));
	static const char *const leftovers[] = {
	    ".driver.meta.json.prev.0ZP9Z3",
	    "driver.meta.json.AB12cd",
	    ".driver.meta.json.exporting.x1Y2z3",
	};
	static const char *const others[] = {
	    "driver.meta.json.AB12C",  "driver.meta.json.AB12CDE", "driver.meta.json.AB-2CD",
	    "driver.meta.jsonXAB12CD", "other.json.AB12CD",	       ".driver.meta.json.AB12CD",
	};
	StdiolinkDriverScanOptions options = {FALSE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *loaded = NULL;
	g_autofree char *not_a_file = g_build_filename(a, "driver.meta.json.ZZZZZZ", NULL);
	Progress progress;

	for (guint i = 0; i < G_N_ELEMENTS(leftovers); i++)
		sl_test_write_file(a, leftovers[i], "{\"half", 0600);
	for (guint i = 0; i < G_N_ELEMENTS(others); i++)
		sl_test_write_file(a, others[i], "x", 0644);
	g_assert_cmpint(g_mkdir(not_a_file, 0755), ==, 0);

	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(result->failures->len, ==, 0);
	loaded = drivers_text(result);
	g_assert_cmpstr(loaded, ==, "drv.a@a_left");

	/* exactly the temporary files of our atomic writes went */
	for (guint i = 0; i < G_N_ELEMENTS(leftovers); i++)
		g_assert_false(exists(a, leftovers[i]));
	for (guint i = 0; i < G_N_ELEMENTS(others); i++)
		g_assert_true(exists(a, others[i]));
	g_assert_true(g_file_test(not_a_file, G_FILE_TEST_IS_DIR));
	g_assert_cmpuint(scan_warnings->len, ==, 0);

	progress_clear(&progress);
}

/* notes and meta files a scan did not write itself are reported and left as they are */
static void
test_scan_untrusted_notes_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_fifo", "ok drv.a.new", OLD_META("drv.a"));
	g_autofree char *b = make_driver(fx->drivers, "b_dir", "ok drv.b.new", OLD_META("drv.b"));
	g_autofree char *c = make_driver(fx->drivers, "c_link", "ok drv.c.new", OLD_META("drv.c"));
	g_autofree char *d = make_driver(fx->drivers, "d_full", "ok drv.d.new", OLD_META("drv.d"));
	g_autofree char *e = make_driver(fx->drivers, "e_loop", "ok drv.e", NULL);
	g_autofree char *b_marker = g_build_filename(b, MARKER_NOTE, NULL);
	g_autofree char *c_marker = g_build_filename(c, MARKER_NOTE, NULL);
	g_autofree char *e_meta = g_build_filename(e, "driver.meta.json", NULL);
	g_autofree char *expected = NULL;
	const char *const folders[] = {a, b, c, d};
	const char *const names[] = {"a_fifo", "b_dir", "c_link", "d_full", "e_loop"};
	StdiolinkDriverScanOptions options = {TRUE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *failures = NULL;
	g_auto(GStrv) log = NULL;
	Progress progress;

	make_fifo(a, MARKER_NOTE);
	g_assert_cmpint(g_mkdir(b_marker, 0755), ==, 0);
	g_assert_cmpint(symlink("driver.meta.json", c_marker), ==, 0);
	sl_test_write_file(d, MARKER_NOTE, "x", 0644);
	g_assert_cmpint(symlink("driver.meta.json", e_meta), ==, 0);

	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	failures = failures_text(result);
	g_assert_cmpstr(failures, ==,
			"a_fifo:invalid_data b_dir:invalid_data c_link:invalid_data "
			"d_full:invalid_data e_loop:invalid_data");
	for (guint i = 0; i < G_N_ELEMENTS(folders); i++) {
		g_autofree char *meta = read_in(folders[i], "driver.meta.json");

		g_assert_cmpstr(failure_message(result, names[i]), ==,
				"cannot settle an interrupted export: " MARKER_NOTE
				" is not an empty regular file");
		g_assert_true(g_str_has_prefix(meta, "{\"info\": {\"id\": \"drv."));
		g_assert_nonnull(strstr(meta, "\"old\""));
		g_assert_true(exists(folders[i], MARKER_NOTE) || i == 2);
	}
	g_assert_true(is_fifo(a, MARKER_NOTE));
	g_assert_true(g_file_test(b_marker, G_FILE_TEST_IS_DIR));
	g_assert_true(g_file_test(c_marker, G_FILE_TEST_IS_SYMLINK));
	expected = g_strdup_printf("cannot open driver.meta.json: %s", g_strerror(ELOOP));
	g_assert_cmpstr(failure_message(result, "e_loop"), ==, expected);
	g_assert_true(g_file_test(e_meta, G_FILE_TEST_IS_SYMLINK));

	/* none was run, none quarantined */
	log = read_log(fx->root);
	g_assert_cmpuint(g_strv_length(log), ==, 0);
	g_assert_cmpuint(result->stats.newly_failed, ==, 0);
	for (guint i = 0; i < G_N_ELEMENTS(names); i++)
		assert_not_renamed(fx->drivers, names[i]);
	g_assert_cmpuint(scan_warnings->len, ==, 5);
	g_ptr_array_set_size(scan_warnings, 0);

	progress_clear(&progress);
}

static void
test_scan_vanished_func(ScanFixture *fx, gconstpointer unused)
{
	g_autofree char *a = make_driver(fx->drivers, "a_refresh", "vanish", OLD_META("drv.a"));
	g_autofree char *b = make_driver(fx->drivers, "b_first", "vanish", NULL);
	StdiolinkDriverScanOptions options = {TRUE, 0, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *failures = NULL;
	Progress progress;

	/* each export moves its folder out of drivers/ and fails */
	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);

	/* one failure each, saying so, and nothing else tried on them */
	failures = failures_text(result);
	g_assert_cmpstr(failures, ==, "a_refresh:invalid_data b_first:invalid_data");
	g_assert_cmpstr(failure_message(result, "a_refresh"), ==,
			"the driver folder went away during the scan");
	g_assert_cmpuint(result->stats.newly_failed, ==, 0);
	g_assert_cmpuint(result->stats.updated, ==, 0);
	g_assert_false(exists(fx->drivers, "a_refresh"));
	g_assert_false(exists(fx->drivers, "b_first.failed"));
	g_assert_true(exists(fx->root, "vanished-a_refresh"));
	g_assert_true(exists(fx->root, "vanished-b_first"));
	g_assert_cmpuint(scan_warnings->len, ==, 2);
	g_ptr_array_set_size(scan_warnings, 0);

	progress_clear(&progress);
}

static void
test_scan_large_pool_func(ScanFixture *fx, gconstpointer unused)
{
	StdiolinkDriverScanOptions options = {FALSE, 64, 0, NULL};
	g_autoptr(StdiolinkDriverScanResult) result = NULL;
	g_autoptr(GError) error = NULL;
	Progress progress;

	/* each waits for 64 to have started: the pool is filled, a few starts at a time */
	for (guint i = 0; i < 66; i++) {
		g_autofree char *name = g_strdup_printf("q%02u", i);
		g_autofree char *behaviour = g_strdup_printf("wait-peers 64 drv.q%02u", i);

		g_free(make_driver(fx->drivers, name, behaviour, NULL));
	}

	progress_init(&progress);
	result = run_scan(fx->drivers, &options, &progress, NULL, &error);
	g_assert_no_error(error);
	g_assert_cmpuint(result->failures->len, ==, 0);
	g_assert_cmpuint(result->drivers->len, ==, 66);
	g_assert_cmpuint(most_at_once(fx->root, 66), ==, 64);
	g_assert_cmpuint(progress.last_done, ==, 66);

	progress_clear(&progress);
}

int
main(int argc, char **argv)
{
	scan_warnings = sl_test_capture_scan_warnings("STDIOLINK_DRIVER_DIR");
	g_test_init(&argc, &argv, NULL);

	export_driver = g_getenv("SL_TEST_EXPORT_DRIVER");
	g_assert_nonnull(export_driver);

	add_scan_test("/driver-scan/mixed", test_scan_mixed_func);
	add_scan_test("/driver-scan/refresh", test_scan_refresh_func);
	add_scan_test("/driver-scan/no-refresh", test_scan_no_refresh_func);
	add_scan_test("/driver-scan/parallelism", test_scan_parallelism_func);
	add_scan_test("/driver-scan/cancel", test_scan_cancel_func);
	add_scan_test("/driver-scan/cancel-before-start", test_scan_cancel_before_func);
	add_scan_test("/driver-scan/missing-dir", test_scan_missing_dir_func);
	g_test_add_func("/driver-scan/fifo-meta", test_scan_fifo_meta_func);
	add_scan_test("/driver-scan/load-capped", test_load_capped_func);
	add_scan_test("/driver-scan/unreadable-folder", test_scan_unreadable_folder_func);
	add_scan_test("/driver-scan/recover-refresh", test_scan_recover_refresh_func);
	add_scan_test("/driver-scan/recover-first-export", test_scan_recover_first_export_func);
	add_scan_test("/driver-scan/rename-refused", test_scan_rename_refused_func);
	add_scan_test("/driver-scan/quarantine-drops-meta", test_scan_quarantine_drops_meta_func);
	add_scan_test("/driver-scan/symlinked-meta", test_scan_symlinked_meta_func);
	add_scan_test("/driver-scan/cancel-after-listing", test_scan_cancel_after_listing_func);
	add_scan_test("/driver-scan/no-fds", test_scan_no_fds_func);
	add_scan_test("/driver-scan/bad-interpreter", test_scan_bad_interpreter_func);
	add_scan_test("/driver-scan/unguarded", test_scan_unguarded_func);
	add_scan_test("/driver-scan/atomic-leftovers", test_scan_atomic_leftovers_func);
	add_scan_test("/driver-scan/untrusted-notes", test_scan_untrusted_notes_func);
	add_scan_test("/driver-scan/vanished", test_scan_vanished_func);
	add_scan_test("/driver-scan/large-pool", test_scan_large_pool_func);

	return g_test_run();
}

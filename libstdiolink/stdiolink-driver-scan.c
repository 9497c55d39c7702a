/* renameat2() and RENAME_NOREPLACE */
#define _GNU_SOURCE

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "stdiolink-driver-private.h"
#include "stdiolink-driver-scan.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-service.h"
#include "stdiolink-util.h"

/*
 * The driver scan with metadata export (scanning.md 3), in three steps so that the main
 * loop never waits:
 *   1. a worker thread lists the folders, settles what an interrupted scan left in them
 *      (see below) and keeps what an export may destroy: the bytes of the meta files about
 *      to be refreshed;
 *   2. the main thread runs the exports as subprocesses, a bounded number at a time, each
 *      leading its own process group that a timeout kills as a whole;
 *   3. a worker thread judges the exports, puts back the meta file of each failed refresh,
 *      loads the drivers, deletes what failed first exports wrote and quarantines their
 *      folders.
 * A cancelled scan kills its exports, undoes what they wrote and renames nothing. The
 * worker threads touch only the scan's own data, never the caller's objects.
 *
 * Crash safety. An export writes driver.meta.json in place, so a daemon killed during a
 * scan could leave a broken file that later looks like real metadata. Step 1 therefore
 * leaves a note in each folder it will export, written atomically before the export runs:
 *   - a refresh: `.driver.meta.json.prev`, a copy of the old file;
 *   - a first export: `.driver.meta.json.exporting`, an empty marker.
 * Step 3 removes the note once the folder is settled: after a success at once; after a
 * failed refresh once the old bytes are back; after a failed first export once its file is
 * deleted, before the folder is renamed (a crash in between leaves a folder without meta
 * file, a first export again). Every scan starts by settling the notes it finds: a copy is
 * the truth and goes back over driver.meta.json; a marker means the meta file is a broken
 * first export and is deleted, so the folder is exported and judged as a first export
 * again. A marker that is not an empty regular file was not written by a scan and is not
 * trusted: the folder is reported and left alone. The notes are hidden files: the folder
 * listing and the executable lookup (`stdio.drv.*`) never see them. Two scans of one
 * drivers folder must not overlap, or the first step of one would undo the other's exports
 * in flight; the job manager runs one at a time. An atomic write killed half way leaves its
 * temporary file (`<name>.XXXXXX`, see g_file_set_contents_full()) beside the note or the
 * meta file; the first step deletes those of the names it writes.
 *
 * An export that cannot even start for a reason of the daemon's (no file descriptors,
 * memory or processes left), or whose note cannot be written, is postponed, not failed:
 * the folder is reported, keeps its old meta file or stays without one, and is never
 * quarantined; the next scan tries again. A refresh never runs without its copy.
 */

#define META_FILE_NAME "driver.meta.json"
#define PREV_FILE_NAME "." META_FILE_NAME ".prev"
#define MARKER_FILE_NAME "." META_FILE_NAME ".exporting"
#define FAILED_SUFFIX ".failed"
#define DEFAULT_TIMEOUT_MS 10000

/* how many exports one main loop iteration starts: each spawn costs a fork and an exec */
#define STARTS_PER_ITERATION 4

/* the names whose atomic writes leave `<name>.XXXXXX` behind when killed */
static const char *const atomic_names[] = {META_FILE_NAME, PREV_FILE_NAME, MARKER_FILE_NAME};

typedef struct {
	char *name;
	char *dir;
	char *meta_path;
	char *prev_path;	/* the copy of the old meta file while a refresh runs */
	char *marker_path;	/* there while a first export runs */
	char *exe;		/* nullable */
	char *skip_message;	/* nullable: the folder cannot be read or settled; left alone */
	gboolean had_meta;	/* before this scan */
	gboolean needs_export;
	gboolean guarded;	/* this scan wrote the copy or the marker */
	GBytes *old_meta;	/* a refresh: the file before it; %NULL if it could not be kept */
	int old_mode;

	/* set on the main thread by the export, or by step 1 if it cannot run */
	gboolean started;
	gboolean postponed;	/* not run for the daemon's reason: reported, tried next time */
	const char *failure_code; /* static; %NULL while the export looks good */
	char *failure_message;

	/* set by the last step */
	gboolean quarantine;
	gboolean gone;		/* the folder went away during the scan: reported, left alone */
} ScanEntry;

typedef struct {
	char *drivers_dir;
	gboolean refresh_meta;
	guint parallelism;
	guint timeout_ms;
	char *path_env; /* nullable: PATH of the exports */
	StdiolinkDriverScanProgressFunc progress;
	gpointer progress_data;

	GPtrArray *entries; /* ScanEntry: the scanned folders, in order */
	guint skipped_failed;

	/* main thread only */
	GSource *cancel_source;
	GPtrArray *running; /* Export */
	guint next;
	guint done;
	gboolean pump_scheduled;
	gboolean finishing;
} ScanData;

typedef struct {
	GTask *task; /* the scan, kept alive while the export runs */
	ScanEntry *entry;
	GSubprocess *proc;
	pid_t pid; /* also the process group; 0 if the child was gone at once */
	GSource *timeout;
	gboolean timed_out;
} Export;

static void
scan_entry_free(ScanEntry *entry)
{
	g_free(entry->name);
	g_free(entry->dir);
	g_free(entry->meta_path);
	g_free(entry->prev_path);
	g_free(entry->marker_path);
	g_free(entry->exe);
	g_free(entry->skip_message);
	g_clear_pointer(&entry->old_meta, g_bytes_unref);
	g_free(entry->failure_message);
	g_free(entry);
}

static void
scan_data_free(ScanData *data)
{
	g_free(data->drivers_dir);
	g_free(data->path_env);
	g_ptr_array_unref(data->entries);
	if (data->cancel_source != NULL)
		g_source_destroy(data->cancel_source);
	g_clear_pointer(&data->cancel_source, g_source_unref);
	g_ptr_array_unref(data->running);
	g_free(data);
}

static void
scan_failure_free(StdiolinkDriverScanFailure *failure)
{
	g_free(failure->dir_name);
	g_free(failure->code);
	g_free(failure->message);
	g_free(failure);
}

/**
 * stdiolink_driver_scan_result_free: (skip)
 * @result: (nullable): a scan result
 *
 * Frees @result, its drivers and its failures.
 */
void
stdiolink_driver_scan_result_free(StdiolinkDriverScanResult *result)
{
	if (result == NULL)
		return;
	g_clear_pointer(&result->drivers, g_ptr_array_unref);
	g_clear_pointer(&result->failures, g_ptr_array_unref);
	g_free(result);
}

static void
return_cancelled(GTask *task)
{
	g_task_return_new_error(task, G_IO_ERROR, G_IO_ERROR_CANCELLED, "driver scan canceled");
}

/* ---- files (worker threads only) ----------------------------------------------------- */

/* the success test of an export (scanning.md 3.2): the file exists and is a JSON object */
static gboolean
check_meta_object(const char *path, GError **error)
{
	g_autoptr(GBytes) bytes = stdiolink_driver_read_meta_file(path, NULL, error);
	g_autoptr(JsonNode) root = NULL;
	g_autoptr(GError) local_error = NULL;
	gsize length;
	const char *text;

	if (bytes == NULL)
		return FALSE;
	text = g_bytes_get_data(bytes, &length);
	root = stdiolink_json_parse(length > 0 ? text : "", (gssize)length, &local_error);
	if (root == NULL)
		return stdiolink_set_invalid_data(error, "%s does not parse: %s", META_FILE_NAME,
						  local_error->message);
	if (!JSON_NODE_HOLDS_OBJECT(root))
		return stdiolink_set_invalid_data(error, "%s is not a JSON object",
						  META_FILE_NAME);
	return TRUE;
}

/* lstat, not stat: a dangling symbolic link is there too */
static gboolean
path_exists(const char *path)
{
	GStatBuf st;

	return g_lstat(path, &st) == 0;
}

static gboolean
remove_file(const char *path, GError **error)
{
	if (g_unlink(path) == 0 || errno == ENOENT)
		return TRUE;
	return stdiolink_set_invalid_data(error, "cannot remove %s: %s", path, g_strerror(errno));
}

/* removes @path, or says why not; %TRUE if it is gone */
static gboolean
remove_or_warn(const char *path)
{
	g_autoptr(GError) error = NULL;

	if (remove_file(path, &error))
		return TRUE;
	g_warning("driver scan: %s", error->message);
	return FALSE;
}

/* where a meta file is written back: through a symbolic link, so that the link stays */
static char *
write_target(const char *meta_path)
{
	char *resolved;
	char *target;

	if (!g_file_test(meta_path, G_FILE_TEST_IS_SYMLINK))
		return g_strdup(meta_path);
	resolved = realpath(meta_path, NULL);
	if (resolved == NULL)
		return g_strdup(meta_path);
	target = g_strdup(resolved);
	free(resolved);
	return target;
}

/* atomically, so that a crash leaves either the old or the new file */
static gboolean
write_meta_bytes(const char *meta_path, GBytes *bytes, int mode, GError **error)
{
	g_autofree char *target = write_target(meta_path);
	gsize length;
	const char *text = g_bytes_get_data(bytes, &length);

	return stdiolink_write_file_atomic(target, length > 0 ? text : "", (gssize)length, mode,
					   error);
}

/* writes the kept bytes back unless the file still holds exactly them; %TRUE if it does */
static gboolean
restore_old_meta(ScanEntry *entry)
{
	g_autoptr(GBytes) current = NULL;
	g_autoptr(GError) error = NULL;

	if (entry->old_meta == NULL)
		return TRUE;
	current = stdiolink_driver_read_meta_file(entry->meta_path, NULL, NULL);
	if (current != NULL && g_bytes_equal(current, entry->old_meta))
		return TRUE;

	if (write_meta_bytes(entry->meta_path, entry->old_meta, entry->old_mode, &error))
		return TRUE;
	g_warning("driver scan: cannot restore %s: %s", entry->meta_path, error->message);
	return FALSE;
}

/* a refresh undone: the old file back, then its copy removed (kept for the next scan if
 * the file could not be put back) */
static void
undo_refresh(ScanEntry *entry)
{
	if (restore_old_meta(entry) && entry->guarded)
		remove_or_warn(entry->prev_path);
}

/* a first export undone: whatever it wrote deleted, then the marker */
static void
undo_first_export(ScanEntry *entry)
{
	if (remove_or_warn(entry->meta_path) && entry->guarded)
		remove_or_warn(entry->marker_path);
}

/* a cancelled scan leaves the meta files as they were before its exports */
static void
undo_exports(ScanData *data)
{
	for (guint i = 0; i < data->entries->len; i++) {
		ScanEntry *entry = g_ptr_array_index(data->entries, i);

		if (!entry->started && !entry->guarded)
			continue;
		if (entry->had_meta)
			undo_refresh(entry);
		else
			undo_first_export(entry);
	}
}

/* ---- step 1: list and settle the folders (worker thread) ---------------------------- */

/* a folder that cannot be listed or entered would look empty and be quarantined */
static char *
folder_unreadable_message(const char *dir)
{
	int fd = g_open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

	if (fd < 0)
		return g_strdup_printf("cannot read driver folder: %s", g_strerror(errno));
	g_close(fd, NULL);
	if (g_access(dir, X_OK) != 0)
		return g_strdup_printf("cannot read driver folder: %s", g_strerror(errno));
	return NULL;
}

/* the copy a killed scan left is the truth: it goes back over the meta file */
static gboolean
recover_refresh(ScanEntry *entry, GError **error)
{
	g_autoptr(GBytes) prev = NULL;
	int mode = 0644;

	prev = stdiolink_driver_read_meta_file(entry->prev_path, &mode, error);
	if (prev == NULL || !write_meta_bytes(entry->meta_path, prev, mode, error))
		return FALSE;
	if (!remove_file(entry->prev_path, error))
		return FALSE;
	g_message("driver scan: %s: put back the metadata an interrupted refresh replaced",
		  entry->dir);
	return TRUE;
}

/* a marker a killed scan left: the meta file is a broken first export, so it goes */
static gboolean
recover_first_export(ScanEntry *entry, GError **error)
{
	gboolean had_meta = path_exists(entry->meta_path);

	if (!remove_file(entry->meta_path, error) || !remove_file(entry->marker_path, error))
		return FALSE;
	if (had_meta)
		g_message("driver scan: %s: dropped the metadata of an interrupted first export",
			  entry->dir);
	return TRUE;
}

/* a scan writes its marker as an empty regular file; anything else is not ours to act on */
static gboolean
check_marker(ScanEntry *entry, gboolean *present, GError **error)
{
	GStatBuf st;

	*present = FALSE;
	if (g_lstat(entry->marker_path, &st) != 0) {
		if (errno == ENOENT)
			return TRUE;
		return stdiolink_set_invalid_data(error, "cannot look at %s: %s",
						  MARKER_FILE_NAME, g_strerror(errno));
	}
	*present = TRUE;
	if (!S_ISREG(st.st_mode) || st.st_size != 0)
		return stdiolink_set_invalid_data(error, "%s is not an empty regular file",
						  MARKER_FILE_NAME);
	return TRUE;
}

/* settles the notes of an interrupted scan (see the top); the meta file first each time */
static gboolean
recover_folder(ScanEntry *entry, GError **error)
{
	gboolean had_prev = path_exists(entry->prev_path);
	gboolean had_marker;

	if (!check_marker(entry, &had_marker, error))
		return FALSE;
	if (had_prev && !recover_refresh(entry, error))
		return FALSE;
	if (!had_marker)
		return TRUE;

	/* both notes cannot come from one scan; the copy, being the truth, wins */
	if (had_prev)
		return remove_file(entry->marker_path, error);
	return recover_first_export(entry, error);
}

/* "<name>." and six characters of g_mkstemp()'s alphabet: the temporary file of an atomic
 * write of @name */
static gboolean
is_atomic_leftover(const char *file_name, const char *name)
{
	gsize length = strlen(name);
	const char *suffix;

	if (strncmp(file_name, name, length) != 0 || file_name[length] != '.')
		return FALSE;
	suffix = file_name + length + 1;
	if (strlen(suffix) != 6)
		return FALSE;
	for (guint i = 0; i < 6; i++) {
		if (!g_ascii_isalnum(suffix[i]))
			return FALSE;
	}
	return TRUE;
}

static gboolean
is_any_atomic_leftover(const char *file_name)
{
	for (guint i = 0; i < G_N_ELEMENTS(atomic_names); i++) {
		if (is_atomic_leftover(file_name, atomic_names[i]))
			return TRUE;
	}
	return FALSE;
}

/* the temporary files of atomic writes a killed daemon left; only regular files, so that a
 * folder someone named like one stays */
static void
remove_atomic_leftovers(ScanEntry *entry)
{
	g_autoptr(GDir) dir = g_dir_open(entry->dir, 0, NULL);
	const char *name;

	if (dir == NULL)
		return;
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = NULL;
		GStatBuf st;

		if (!is_any_atomic_leftover(name))
			continue;
		path = g_build_filename(entry->dir, name, NULL);
		if (g_lstat(path, &st) == 0 && S_ISREG(st.st_mode) && remove_or_warn(path))
			g_message("driver scan: %s: removed %s, left by an interrupted write",
				  entry->dir, name);
	}
}

static void
set_export_failure(ScanEntry *entry, const char *code, char *message)
{
	entry->failure_code = code;
	g_free(entry->failure_message);
	entry->failure_message = message;
}

/* reported and tried again by the next scan, never quarantined: not the driver's fault */
static void
postpone_export(ScanEntry *entry, const char *reason)
{
	entry->postponed = TRUE;
	set_export_failure(entry, "export_failed",
			   g_strdup_printf("%s; will retry on the next scan", reason));
}

/* the copy a refresh needs: a failed refresh puts these bytes back */
static gboolean
write_prev_note(ScanEntry *entry, GError **error)
{
	gsize length;
	const char *text;

	entry->old_meta = stdiolink_driver_read_meta_file(entry->meta_path, &entry->old_mode,
							  error);
	if (entry->old_meta == NULL)
		return FALSE;
	text = g_bytes_get_data(entry->old_meta, &length);
	return stdiolink_write_file_atomic(entry->prev_path, length > 0 ? text : "",
					   (gssize)length, entry->old_mode, error);
}

/* leaves the note that lets the next scan undo the export after a crash */
static void
guard_export(ScanEntry *entry)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *reason = NULL;
	gboolean written;

	if (entry->had_meta)
		written = write_prev_note(entry, &error);
	else
		written = stdiolink_write_file_atomic(entry->marker_path, "", 0, 0644, &error);
	if (written) {
		entry->guarded = TRUE;
		return;
	}

	/* unguarded, a crash could lose the old file or leave one that passes for metadata:
	 * the export does not run */
	entry->needs_export = FALSE;
	reason = g_strdup_printf("cannot prepare the metadata export: %s", error->message);
	postpone_export(entry, reason);
}

static ScanEntry *
scan_entry_new(const char *drivers_dir, const char *name)
{
	ScanEntry *entry = g_new0(ScanEntry, 1);

	entry->name = g_strdup(name);
	entry->dir = g_build_filename(drivers_dir, name, NULL);
	entry->meta_path = g_build_filename(entry->dir, META_FILE_NAME, NULL);
	entry->prev_path = g_build_filename(entry->dir, PREV_FILE_NAME, NULL);
	entry->marker_path = g_build_filename(entry->dir, MARKER_FILE_NAME, NULL);
	return entry;
}

/* a meta file that is there but cannot be reached: stat() fails for another reason than a
 * dangling symbolic link, which an export writes through like a missing file */
static char *
unfollowable_meta_message(const char *meta_path)
{
	GStatBuf st;

	if (g_stat(meta_path, &st) == 0 || errno == ENOENT)
		return NULL;
	return g_strdup_printf("cannot open %s: %s", META_FILE_NAME, g_strerror(errno));
}

/* decides whether @entry is exported, after settling what an interrupted scan left */
static void
prepare_entry(ScanEntry *entry, gboolean refresh_meta)
{
	g_autoptr(GError) error = NULL;
	gboolean regular_meta;

	entry->skip_message = folder_unreadable_message(entry->dir);
	if (entry->skip_message != NULL)
		return;
	if (!recover_folder(entry, &error)) {
		entry->skip_message = g_strdup_printf("cannot settle an interrupted export: %s",
						      error->message);
		return;
	}

	remove_atomic_leftovers(entry);

	/* a symbolic link that cannot be followed (a loop) is no missing file: left alone */
	entry->skip_message = unfollowable_meta_message(entry->meta_path);
	if (entry->skip_message != NULL)
		return;

	entry->exe = stdiolink_driver_find_executable(entry->dir);
	entry->had_meta = g_file_test(entry->meta_path, G_FILE_TEST_EXISTS);
	regular_meta = g_file_test(entry->meta_path, G_FILE_TEST_IS_REGULAR);

	/* a folder without metadata is exported whatever refresh_meta says; an export never
	 * writes into a FIFO or a device in the place of the meta file */
	entry->needs_export = entry->exe != NULL &&
			      (!entry->had_meta || (refresh_meta && regular_meta));
	if (entry->needs_export)
		guard_export(entry);
}

static void
list_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	ScanData *data = task_data;
	GError *error = NULL;
	g_autoptr(GPtrArray) names = stdiolink_scan_list_subdirs(data->drivers_dir, &error);

	/* an unreadable drivers/ must not pass for an empty one: the scan fails */
	if (names == NULL) {
		g_task_return_error(task, error);
		return;
	}

	for (guint i = 0; i < names->len && !g_cancellable_is_cancelled(cancellable); i++) {
		const char *name = g_ptr_array_index(names, i);
		ScanEntry *entry;

		if (g_str_has_suffix(name, FAILED_SUFFIX)) {
			data->skipped_failed++;
			continue;
		}
		entry = scan_entry_new(data->drivers_dir, name);
		g_ptr_array_add(data->entries, entry);
		prepare_entry(entry, data->refresh_meta);
	}
	g_task_return_boolean(task, TRUE);
}

/* ---- step 3: judge, load, quarantine (worker thread) ------------------------------ */

static void
log_failure(ScanEntry *entry, const char *reason)
{
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
			 "STDIOLINK_DRIVER_DIR", entry->dir,
			 "STDIOLINK_REASON", reason,
			 "MESSAGE", "driver scan: %s: %s", entry->dir, reason);
}

static void
add_failure(StdiolinkDriverScanResult *result,
	    ScanEntry *entry,
	    const char *code,
	    const char *message)
{
	StdiolinkDriverScanFailure *failure = g_new0(StdiolinkDriverScanFailure, 1);

	failure->dir_name = g_strdup(entry->name);
	failure->code = g_strdup(code);
	failure->message = g_strdup(message);
	g_ptr_array_add(result->failures, failure);
	log_failure(entry, message);
}

/* decides whether @entry is loaded, restored or quarantined */
static void
judge_export(ScanEntry *entry, StdiolinkDriverScanResult *result)
{
	g_autoptr(GError) error = NULL;

	if (entry->skip_message != NULL) {
		add_failure(result, entry, "invalid_data", entry->skip_message);
		return;
	}

	/* renamed or removed behind our back: whatever failed below would only say so again */
	if (!path_exists(entry->dir)) {
		entry->gone = TRUE;
		add_failure(result, entry, "invalid_data",
			    "the driver folder went away during the scan");
		return;
	}

	/* the old meta file, if any, is untouched: loaded as if no refresh was asked for */
	if (entry->postponed) {
		add_failure(result, entry, entry->failure_code, entry->failure_message);
		return;
	}

	if (entry->needs_export && entry->failure_code == NULL &&
	    !check_meta_object(entry->meta_path, &error))
		set_export_failure(entry, "export_failed",
				   g_strdup_printf("metadata export failed: %s", error->message));
	if (entry->failure_code != NULL) {
		add_failure(result, entry, entry->failure_code, entry->failure_message);
		if (entry->had_meta)
			restore_old_meta(entry);
		else
			entry->quarantine = TRUE;
		return;
	}

	/* no export and no metadata: only possible without an executable */
	if (!entry->needs_export && !entry->had_meta) {
		add_failure(result, entry, "invalid_data",
			    "no " META_FILE_NAME " and no executable stdio.drv.*");
		entry->quarantine = TRUE;
	}
}

static void
load_driver(ScanEntry *entry, GHashTable *by_id, StdiolinkDriverScanResult *result)
{
	g_autoptr(GError) error = NULL;
	StdiolinkDriver *driver;

	if (entry->quarantine || entry->skip_message != NULL || entry->gone)
		return;
	if (entry->postponed && !entry->had_meta)
		return;
	driver = stdiolink_driver_load(entry->dir, &error);
	if (driver == NULL) {
		add_failure(result, entry, "invalid_data", error->message);
		return;
	}

	/* a later folder with the same id replaces the earlier one; both count */
	g_hash_table_replace(by_id, g_strdup(stdiolink_driver_get_id(driver)), driver);
	result->stats.updated++;
}

static gboolean
rename_no_replace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return TRUE;
	if (errno != EINVAL && errno != ENOSYS)
		return FALSE;

	/* file systems without RENAME_NOREPLACE: rename() would replace an empty folder */
	if (g_file_test(to, G_FILE_TEST_EXISTS) || g_file_test(to, G_FILE_TEST_IS_SYMLINK)) {
		errno = EEXIST;
		return FALSE;
	}
	return g_rename(from, to) == 0;
}

static void
quarantine_folder(ScanEntry *entry, StdiolinkDriverScanStats *stats)
{
	g_autofree char *target = g_strconcat(entry->dir, FAILED_SUFFIX, NULL);
	g_autofree char *reason = NULL;

	if (rename_no_replace(entry->dir, target)) {
		stats->newly_failed++;
		return;
	}

	/* left in place: skipped this time, tried again by the next scan */
	reason = g_strdup_printf("cannot rename to %s%s: %s", entry->name, FAILED_SUFFIX,
				 g_strerror(errno));
	log_failure(entry, reason);
}

/* the point of no return is past: the notes go and the failed folders are renamed */
static void
settle_entry(ScanEntry *entry, StdiolinkDriverScanStats *stats)
{
	/* the broken meta file first: renamed back by hand, or left in place by a refused
	 * rename, the folder is a first export again */
	if (entry->quarantine) {
		undo_first_export(entry);
		quarantine_folder(entry, stats);
		return;
	}

	if (!entry->guarded || entry->gone)
		return;
	if (entry->failure_code == NULL)
		remove_or_warn(entry->had_meta ? entry->prev_path : entry->marker_path);
	else if (entry->had_meta)
		undo_refresh(entry);
	else
		undo_first_export(entry); /* postponed, so never run */
}

static gint
compare_driver_ids(gconstpointer a, gconstpointer b)
{
	StdiolinkDriver *da = *(StdiolinkDriver *const *)a;
	StdiolinkDriver *db = *(StdiolinkDriver *const *)b;

	return g_strcmp0(stdiolink_driver_get_id(da), stdiolink_driver_get_id(db));
}

static GPtrArray *
sorted_drivers(GHashTable *by_id)
{
	GPtrArray *drivers = g_ptr_array_new_with_free_func(g_object_unref);
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, by_id);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(drivers, g_object_ref(value));
	g_ptr_array_sort(drivers, compare_driver_ids);
	return drivers;
}

static StdiolinkDriverScanResult *
scan_result_new(void)
{
	StdiolinkDriverScanResult *result = g_new0(StdiolinkDriverScanResult, 1);

	result->failures = g_ptr_array_new_with_free_func((GDestroyNotify)scan_failure_free);
	return result;
}

static void
finish_thread(GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
	ScanData *data = task_data;
	g_autoptr(StdiolinkDriverScanResult) result = scan_result_new();
	g_autoptr(GHashTable) by_id =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_object_unref);

	if (g_cancellable_is_cancelled(cancellable)) {
		undo_exports(data);
		return_cancelled(task);
		return;
	}

	result->stats.scanned = data->entries->len;
	result->stats.skipped_failed = data->skipped_failed;
	for (guint i = 0; i < data->entries->len; i++) {
		ScanEntry *entry = g_ptr_array_index(data->entries, i);

		judge_export(entry, result);
		load_driver(entry, by_id, result);
	}

	/* the last point of return: after it the folders are renamed and the result stands */
	if (g_cancellable_is_cancelled(cancellable)) {
		undo_exports(data);
		return_cancelled(task);
		return;
	}
	for (guint i = 0; i < data->entries->len; i++)
		settle_entry(g_ptr_array_index(data->entries, i), &result->stats);

	result->drivers = sorted_drivers(by_id);
	g_task_return_pointer(task, g_steal_pointer(&result),
			      (GDestroyNotify)stdiolink_driver_scan_result_free);
}

static void
finish_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	GError *error = NULL;
	StdiolinkDriverScanResult *result = g_task_propagate_pointer(G_TASK(res), &error);

	if (result == NULL)
		g_task_return_error(task, error);
	else
		g_task_return_pointer(task, result,
				      (GDestroyNotify)stdiolink_driver_scan_result_free);
}

static void
start_finish(GTask *task)
{
	ScanData *data = g_task_get_task_data(task);
	g_autoptr(GTask) inner = NULL;

	data->finishing = TRUE;
	if (data->cancel_source != NULL)
		g_source_destroy(data->cancel_source);
	g_clear_pointer(&data->cancel_source, g_source_unref);

	/* the scan task holds the data; the worker task only borrows it */
	inner = g_task_new(NULL, g_task_get_cancellable(task), finish_done_cb,
			   g_object_ref(task));
	g_task_set_source_tag(inner, start_finish);
	g_task_set_check_cancellable(inner, FALSE);
	g_task_set_task_data(inner, data, NULL);
	g_task_run_in_thread(inner, finish_thread);
}

/* ---- step 2: the exports (main thread) -------------------------------------------- */

static void
report_done(GTask *task, ScanEntry *entry)
{
	ScanData *data = g_task_get_task_data(task);

	data->done++;
	if (data->progress != NULL && !g_cancellable_is_cancelled(g_task_get_cancellable(task)))
		data->progress(data->done, data->entries->len, entry->name, data->progress_data);
}

static void
export_child_setup_cb(gpointer user_data)
{
	pid_t spawner = GPOINTER_TO_INT(user_data);

	/* lead a process group, so that a timeout kills what the export started too */
	setpgid(0, 0);

	/* an export must not outlive a daemon killed without a chance to clean up */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != spawner)
		_exit(127);
}

static void
kill_export(Export *export)
{
	/* no identifier: the leader is already reaped and its exit is on the way */
	if (export->pid > 0 && g_subprocess_get_identifier(export->proc) != NULL)
		kill(-export->pid, SIGKILL);
}

static gboolean
export_timeout_cb(gpointer user_data)
{
	Export *export = user_data;

	export->timed_out = TRUE;
	kill_export(export);
	return G_SOURCE_REMOVE;
}

static void
record_exit(Export *export, guint timeout_ms)
{
	ScanEntry *entry = export->entry;
	GSubprocess *proc = export->proc;

	if (export->timed_out)
		set_export_failure(entry, "scan_timeout",
				   g_strdup_printf("metadata export timed out after %u ms",
						   timeout_ms));
	else if (g_subprocess_get_if_signaled(proc))
		set_export_failure(entry, "export_failed",
				   g_strdup_printf("metadata export killed by signal %d",
						   g_subprocess_get_term_sig(proc)));
	else if (g_subprocess_get_exit_status(proc) != 0)
		set_export_failure(entry, "export_failed",
				   g_strdup_printf("metadata export exited with code %d",
						   g_subprocess_get_exit_status(proc)));
}

static void
export_free(Export *export)
{
	g_source_destroy(export->timeout);
	g_source_unref(export->timeout);
	g_object_unref(export->proc);
	g_clear_object(&export->task);
	g_free(export);
}

static void pump(GTask *task);

static void
export_exited_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	Export *export = user_data;
	g_autoptr(GTask) task = g_steal_pointer(&export->task);
	ScanData *data = g_task_get_task_data(task);
	ScanEntry *entry = export->entry;

	/* without a cancellable the wait only ends with the exit */
	g_subprocess_wait_finish(export->proc, res, NULL);
	record_exit(export, data->timeout_ms);
	g_ptr_array_remove(data->running, export);
	export_free(export);

	report_done(task, entry);
	pump(task);
}

static pid_t
pid_of(GSubprocess *proc)
{
	const char *identifier = g_subprocess_get_identifier(proc);

	return identifier != NULL ? (pid_t)g_ascii_strtoll(identifier, NULL, 10) : 0;
}

static GSubprocess *
spawn_export(ScanData *data, ScanEntry *entry, GError **error)
{
	g_autoptr(GSubprocessLauncher) launcher = NULL;
	g_autofree char *arg = g_strconcat("--export-meta=", entry->meta_path, NULL);
	const char *argv[] = {entry->exe, arg, NULL};

	/* stdin is /dev/null; the output is of no use to us */
	launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
					     G_SUBPROCESS_FLAGS_STDERR_SILENCE);
	if (data->path_env != NULL)
		g_subprocess_launcher_setenv(launcher, "PATH", data->path_env, TRUE);
	g_subprocess_launcher_set_child_setup(launcher, export_child_setup_cb,
					      GINT_TO_POINTER(getpid()), NULL);
	return g_subprocess_launcher_spawnv(launcher, argv, error);
}

/* the driver's program cannot be run: missing, not executable, a bad interpreter or
 * binary. Anything else (no file descriptors, memory or processes left, a pipe or a fork
 * that failed) is the daemon's trouble and passes. */
static gboolean
is_driver_spawn_error(const GError *error)
{
	static const int driver_codes[] = {
	    G_SPAWN_ERROR_ACCES, G_SPAWN_ERROR_PERM,  G_SPAWN_ERROR_NOENT,
	    G_SPAWN_ERROR_NOEXEC, G_SPAWN_ERROR_NOTDIR, G_SPAWN_ERROR_LOOP,
	    G_SPAWN_ERROR_ISDIR, G_SPAWN_ERROR_LIBBAD, G_SPAWN_ERROR_INVAL,
	    G_SPAWN_ERROR_NAMETOOLONG,
	};

	if (error->domain == G_IO_ERROR)
		return error->code == G_IO_ERROR_NOT_FOUND ||
		       error->code == G_IO_ERROR_PERMISSION_DENIED;
	if (error->domain != G_SPAWN_ERROR)
		return FALSE;
	for (guint i = 0; i < G_N_ELEMENTS(driver_codes); i++) {
		if (error->code == driver_codes[i])
			return TRUE;
	}
	return FALSE;
}

static void
start_export(GTask *task, ScanEntry *entry)
{
	ScanData *data = g_task_get_task_data(task);
	g_autoptr(GError) error = NULL;
	GSubprocess *proc = spawn_export(data, entry, &error);
	g_autofree char *reason = NULL;
	Export *export;

	if (proc == NULL) {
		reason = g_strdup_printf("cannot run the metadata export: %s", error->message);
		if (is_driver_spawn_error(error))
			set_export_failure(entry, "export_failed", g_steal_pointer(&reason));
		else
			postpone_export(entry, reason);
		report_done(task, entry);
		return;
	}

	entry->started = TRUE;
	export = g_new0(Export, 1);
	export->task = g_object_ref(task);
	export->entry = entry;
	export->proc = proc;
	export->pid = pid_of(proc);
	export->timeout = g_timeout_source_new(data->timeout_ms);
	g_source_set_callback(export->timeout, export_timeout_cb, export, NULL);
	g_source_attach(export->timeout, g_task_get_context(task));
	g_ptr_array_add(data->running, export);
	g_subprocess_wait_async(proc, NULL, export_exited_cb, export);
}

static gboolean
pump_cb(gpointer user_data)
{
	GTask *task = user_data;
	ScanData *data = g_task_get_task_data(task);

	data->pump_scheduled = FALSE;
	pump(task);
	return G_SOURCE_REMOVE;
}

/* the rest of a pool too large for one iteration: started from the next ones */
static void
schedule_pump(GTask *task)
{
	ScanData *data = g_task_get_task_data(task);
	g_autoptr(GSource) source = NULL;

	if (data->pump_scheduled)
		return;
	data->pump_scheduled = TRUE;
	source = g_idle_source_new();
	g_source_set_callback(source, pump_cb, g_object_ref(task), g_object_unref);
	g_source_attach(source, g_task_get_context(task));
}

/* starts exports while there is room, a few per main loop iteration so that a large pool
 * does not hold the loop up; once none runs nor is left, the last step */
static void
pump(GTask *task)
{
	ScanData *data = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);
	gboolean cancelled = g_cancellable_is_cancelled(cancellable);
	guint starts = 0;

	while (!cancelled && data->running->len < data->parallelism &&
	       data->next < data->entries->len && starts < STARTS_PER_ITERATION) {
		ScanEntry *entry = g_ptr_array_index(data->entries, data->next++);

		if (!entry->needs_export)
			continue;
		start_export(task, entry);
		starts++;
	}

	if (!cancelled && data->next < data->entries->len) {
		if (data->running->len < data->parallelism)
			schedule_pump(task);
		return;
	}
	if (data->running->len == 0 && !data->finishing)
		start_finish(task);
}

static gboolean
cancelled_cb(GCancellable *cancellable, gpointer user_data)
{
	ScanData *data = g_task_get_task_data(G_TASK(user_data));

	/* their exits arrive through export_exited_cb, which then ends the scan */
	for (guint i = 0; i < data->running->len; i++)
		kill_export(g_ptr_array_index(data->running, i));
	return G_SOURCE_REMOVE;
}

static void
watch_cancellation(GTask *task)
{
	ScanData *data = g_task_get_task_data(task);
	GCancellable *cancellable = g_task_get_cancellable(task);

	if (cancellable == NULL)
		return;

	/* a source, not a signal handler: cancel() may come from any thread */
	data->cancel_source = g_cancellable_source_new(cancellable);
	g_source_set_callback(data->cancel_source, G_SOURCE_FUNC(cancelled_cb), task, NULL);
	g_source_attach(data->cancel_source, g_task_get_context(task));
}

static void
list_done_cb(GObject *source, GAsyncResult *res, gpointer user_data)
{
	g_autoptr(GTask) task = user_data;
	ScanData *data = g_task_get_task_data(task);
	GError *error = NULL;

	if (!g_task_propagate_boolean(G_TASK(res), &error)) {
		g_task_return_error(task, error);
		return;
	}

	/* the last step removes the notes the first one left, then fails the scan */
	if (g_cancellable_is_cancelled(g_task_get_cancellable(task))) {
		start_finish(task);
		return;
	}

	/* the total is known from here on */
	if (data->progress != NULL)
		data->progress(0, data->entries->len, NULL, data->progress_data);

	/* folders with nothing to export are done already */
	watch_cancellation(task);
	for (guint i = 0; i < data->entries->len; i++) {
		ScanEntry *entry = g_ptr_array_index(data->entries, i);

		if (!entry->needs_export)
			report_done(task, entry);
	}
	pump(task);
}

/* ---- public API ------------------------------------------------------------------- */

static char *
export_path_env(const char *path_prefix)
{
	const char *path = g_getenv("PATH");

	if (path_prefix == NULL)
		return NULL;
	if (path == NULL || *path == '\0')
		return g_strdup(path_prefix);
	return g_strconcat(path_prefix, G_SEARCHPATH_SEPARATOR_S, path, NULL);
}

static ScanData *
scan_data_new(const char *drivers_dir, const StdiolinkDriverScanOptions *options)
{
	ScanData *data = g_new0(ScanData, 1);

	data->drivers_dir = g_canonicalize_filename(drivers_dir, NULL);
	data->refresh_meta = options->refresh_meta;
	data->parallelism = options->parallelism != 0 ? options->parallelism
						      : 2 * g_get_num_processors();
	data->timeout_ms = options->timeout_ms != 0 ? options->timeout_ms : DEFAULT_TIMEOUT_MS;
	data->path_env = export_path_env(options->path_prefix);
	data->entries = g_ptr_array_new_with_free_func((GDestroyNotify)scan_entry_free);
	data->running = g_ptr_array_new();
	return data;
}

/**
 * stdiolink_driver_scan_async: (skip)
 * @drivers_dir: the `drivers/` folder; a missing one gives an empty result
 * @options: how to run the exports
 * @progress: (nullable): called once with 0 done when the folders are listed, then once
 *   per scanned folder when its work is done
 * @progress_data: data for @progress
 * @cancellable: (nullable): a #GCancellable
 * @callback: called on the caller's main context when the scan is over
 * @user_data: data for @callback
 *
 * Scans the driver folders as scanning.md section 3 describes: each folder without
 * metadata, and with @options->refresh_meta every folder, has its `stdio.drv.*` program
 * run with `--export-meta=<folder>/driver.meta.json` (at most @options->parallelism at
 * once, each killed with its process group after @options->timeout_ms); a folder whose
 * first export fails loses what the export wrote and is renamed to `<name>.failed`, a
 * failed refresh keeps the old metadata, and the drivers are loaded. A folder that cannot
 * be read is left alone, with an `invalid_data` failure; so is a meta file that is not a
 * regular file (a FIFO, a device, a symbolic link loop): it is never exported into nor
 * waited on. An export that cannot start for the daemon's own reasons (too many open
 * files, no memory, no process left) is postponed: an `export_failed` failure, the old
 * metadata kept or none written, no quarantine; the next scan tries again. Files are read
 * in worker threads only, and a large pool of exports is started a few per main loop
 * iteration; the caller's main loop never waits.
 *
 * The scan survives a crash: before each export it leaves a hidden note in the folder (a
 * copy of the old meta file, `.driver.meta.json.prev`, or for a first export a marker,
 * `.driver.meta.json.exporting`), removed once the folder is settled; each scan first
 * settles the notes a killed daemon left, putting a copy back over the meta file and
 * deleting the meta file of a marked folder, which is then exported as a first export
 * again, and deletes the temporary files of atomic writes that were cut short
 * (`driver.meta.json.XXXXXX`, `.driver.meta.json.prev.XXXXXX`). A refresh whose copy
 * cannot be written does not run. Two scans of one @drivers_dir must therefore not
 * overlap.
 *
 * Cancelling @cancellable kills the running exports, starts no more, restores the meta
 * files they changed, deletes the ones they created, removes the notes and renames
 * nothing; the scan then fails with %G_IO_ERROR_CANCELLED. A cancellation that comes once
 * the folders are being renamed is too late and the scan completes.
 */
void
stdiolink_driver_scan_async(const char *drivers_dir,
			    const StdiolinkDriverScanOptions *options,
			    StdiolinkDriverScanProgressFunc progress,
			    gpointer progress_data,
			    GCancellable *cancellable,
			    GAsyncReadyCallback callback,
			    gpointer user_data)
{
	g_autoptr(GTask) task = NULL;
	g_autoptr(GTask) inner = NULL;
	ScanData *data;

	g_return_if_fail(drivers_dir != NULL);
	g_return_if_fail(options != NULL);
	g_return_if_fail(cancellable == NULL || G_IS_CANCELLABLE(cancellable));

	task = g_task_new(NULL, cancellable, callback, user_data);
	g_task_set_source_tag(task, stdiolink_driver_scan_async);
	/* the steps look at the cancellable themselves: see the comment above */
	g_task_set_check_cancellable(task, FALSE);
	data = scan_data_new(drivers_dir, options);
	data->progress = progress;
	data->progress_data = progress_data;
	g_task_set_task_data(task, data, (GDestroyNotify)scan_data_free);

	if (g_cancellable_is_cancelled(cancellable)) {
		return_cancelled(task);
		return;
	}

	inner = g_task_new(NULL, cancellable, list_done_cb, g_object_ref(task));
	g_task_set_source_tag(inner, list_thread);
	g_task_set_check_cancellable(inner, FALSE);
	g_task_set_task_data(inner, data, NULL);
	g_task_run_in_thread(inner, list_thread);
}

/**
 * stdiolink_driver_scan_finish: (skip)
 * @res: the result given to the callback
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the drivers, the counters and the failures, or %NULL with
 *   @error set (%G_IO_ERROR_CANCELLED)
 */
StdiolinkDriverScanResult *
stdiolink_driver_scan_finish(GAsyncResult *res, GError **error)
{
	g_return_val_if_fail(g_task_is_valid(res, NULL), NULL);
	g_return_val_if_fail(g_task_get_source_tag(G_TASK(res)) == stdiolink_driver_scan_async,
			     NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	return g_task_propagate_pointer(G_TASK(res), error);
}

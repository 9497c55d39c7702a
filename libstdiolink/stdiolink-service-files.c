/* renameat2() and RENAME_NOREPLACE */
#define _GNU_SOURCE

#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-service-files.h"
#include "stdiolink-service.h"
#include "stdiolink-util.h"

/*
 * The files API works inside one service folder and must never read or write outside it.
 * A path is first checked as text (no absolute path, no `..`, no backslash, no control
 * character, no percent escape left after decoding), then walked one folder at a time
 * with openat(O_NOFOLLOW): every step is held open, so a symbolic link anywhere on the way
 * is refused and a folder swapped for a link after the check is not followed either.
 * Writes go to a temporary file in the target folder and are renamed into place.
 *
 * Everything here does blocking file I/O: the daemon calls it from worker threads.
 */

#define NAME_LIMIT	 255  /* bytes in one segment (NAME_MAX) */
#define PATH_LIMIT	 4095 /* bytes in the whole relative path (PATH_MAX - 1) */
#define TREE_DEPTH_LIMIT 64   /* folders deeper than this are neither listed nor walked */

static const char *const core_files[] = {"manifest.json", "index.js", "config.schema.json", NULL};

struct _StdiolinkServicePath {
	int parent_fd;	/* the deepest existing folder on the way to the leaf */
	GStrv missing;	/* folders below parent_fd that do not exist yet, outermost first */
	char *leaf;	/* the last segment */
	char *relative; /* the normalized relative path */
	gboolean exists;
	struct stat st; /* of the leaf, when it exists */
};

/* these two return FALSE so that a check can end with `return path_rejected(error);` */
static gboolean
path_rejected(GError **error)
{
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "path rejected: unsafe or invalid");
	return FALSE;
}

static gboolean
file_not_found(GError **error)
{
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_NOT_FOUND, "file not found");
	return FALSE;
}

/* ---- checking paths as text ------------------------------------------------------------ */

/* control characters, DEL and the Windows separator have no business in a service file name */
static gboolean
has_forbidden_char(const char *path)
{
	for (const guchar *p = (const guchar *)path; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			return TRUE;
	}
	return FALSE;
}

/* query values are decoded once; an escape still there was encoded twice */
static gboolean
has_percent_escape(const char *path)
{
	for (const char *p = strchr(path, '%'); p != NULL; p = strchr(p + 1, '%')) {
		if (g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2]))
			return TRUE;
	}
	return FALSE;
}

/**
 * stdiolink_service_path_normalize:
 * @path: (nullable): a relative path as the client sent it, already decoded once
 * @error: return location for a #GError
 *
 * The textual half of the path rules (http-api.md 4.10-4.13, tightened): refuses absolute
 * paths, `..` segments, backslashes, control characters, invalid UTF-8, percent escapes
 * left after decoding (double encoding), segments over 255 bytes and paths over 4095
 * bytes. Empty and `.` segments are dropped; nothing left (the folder itself) is refused.
 * Names such as `..hidden` are fine. Refusals are %STDIOLINK_ERROR_BAD_REQUEST
 * `path rejected: unsafe or invalid`.
 *
 * Returns: (transfer full): the path with `/` between its segments, or %NULL
 */
char *
stdiolink_service_path_normalize(const char *path, GError **error)
{
	g_autoptr(GPtrArray) kept = g_ptr_array_new();
	g_auto(GStrv) segments = NULL;

	if (path == NULL || *path == '\0' || strlen(path) > PATH_LIMIT ||
	    !g_utf8_validate(path, -1, NULL) || path[0] == '/' || has_forbidden_char(path) ||
	    has_percent_escape(path)) {
		path_rejected(error);
		return NULL;
	}

	segments = g_strsplit(path, "/", -1);
	for (guint i = 0; segments[i] != NULL; i++) {
		const char *segment = segments[i];

		if (*segment == '\0' || g_str_equal(segment, "."))
			continue;
		if (g_str_equal(segment, "..") || strlen(segment) > NAME_LIMIT) {
			path_rejected(error);
			return NULL;
		}
		g_ptr_array_add(kept, (gpointer)segment);
	}
	if (kept->len == 0) {
		path_rejected(error);
		return NULL;
	}
	g_ptr_array_add(kept, NULL);
	return g_strjoinv("/", (char **)kept->pdata);
}

/**
 * stdiolink_service_path_is_core_file:
 * @path: (nullable): a relative path as given
 *
 * The files a service cannot do without: `manifest.json`, `index.js` and
 * `config.schema.json`, also when spelt another way that names the same file, such as
 * `./manifest.json`.
 *
 * Returns: %TRUE if @path names one of them
 */
gboolean
stdiolink_service_path_is_core_file(const char *path)
{
	g_autofree char *relative = NULL;

	if (path != NULL && g_strv_contains(core_files, path))
		return TRUE;
	relative = stdiolink_service_path_normalize(path, NULL);
	return relative != NULL && g_strv_contains(core_files, relative);
}

/* ---- walking ------------------------------------------------------------------------- */

/**
 * stdiolink_service_path_free:
 * @sp: (nullable): a checked path
 *
 * Closes the folder it holds and frees it.
 */
void
stdiolink_service_path_free(StdiolinkServicePath *sp)
{
	if (sp == NULL)
		return;
	if (sp->parent_fd >= 0)
		close(sp->parent_fd);
	g_strfreev(sp->missing);
	g_free(sp->leaf);
	g_free(sp->relative);
	g_free(sp);
}

/* replaces the held folder with its sub-folder @name; a link or a non-folder is refused */
static gboolean
descend(StdiolinkServicePath *sp, const char *name, GError **error)
{
	int fd = openat(sp->parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return path_rejected(error);
	close(sp->parent_fd);
	sp->parent_fd = fd;
	return TRUE;
}

/* the folders from @segments[@from] to the one before the leaf do not exist yet */
static void
set_missing(StdiolinkServicePath *sp, char **segments, guint from, guint n)
{
	GPtrArray *missing = g_ptr_array_new();

	for (guint i = from; i + 1 < n; i++)
		g_ptr_array_add(missing, g_strdup(segments[i]));
	g_ptr_array_add(missing, NULL);
	sp->missing = (GStrv)g_ptr_array_free(missing, FALSE);
}

/* walks the folders before the leaf; stops early (not an error) at one that is missing */
static gboolean
walk_folders(StdiolinkServicePath *sp, char **segments, guint n, GError **error)
{
	for (guint i = 0; i + 1 < n; i++) {
		struct stat st;

		if (fstatat(sp->parent_fd, segments[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
			if (errno != ENOENT)
				return path_rejected(error);
			set_missing(sp, segments, i, n);
			return TRUE;
		}
		/* a link, even one that points inside, and a file on the way are both refused */
		if (!S_ISDIR(st.st_mode))
			return path_rejected(error);
		if (!descend(sp, segments[i], error))
			return FALSE;
	}
	return TRUE;
}

static gboolean
stat_leaf(StdiolinkServicePath *sp, GError **error)
{
	if (sp->missing != NULL)
		return TRUE;
	if (fstatat(sp->parent_fd, sp->leaf, &sp->st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return path_rejected(error);
		return TRUE;
	}
	if (S_ISLNK(sp->st.st_mode))
		return path_rejected(error);
	sp->exists = TRUE;
	return TRUE;
}

/**
 * stdiolink_service_path_open: (skip)
 * @service_dir: the service folder (it may itself be a symbolic link)
 * @path: (nullable): a relative path as the client sent it
 * @error: return location for a #GError
 *
 * Checks @path as text (stdiolink_service_path_normalize()), then walks it from
 * @service_dir without following any symbolic link: a step that is a link, or that exists
 * and is not a folder, and a leaf that is a link are refused. A missing folder on the way
 * is not an error: the leaf then does not exist. Refusals are
 * %STDIOLINK_ERROR_BAD_REQUEST `path rejected: unsafe or invalid`. Blocking I/O.
 *
 * Returns: (transfer full): the checked path, or %NULL with @error set
 */
StdiolinkServicePath *
stdiolink_service_path_open(const char *service_dir, const char *path, GError **error)
{
	g_autoptr(StdiolinkServicePath) sp = NULL;
	g_autofree char *relative = NULL;
	g_auto(GStrv) segments = NULL;
	guint n;

	g_return_val_if_fail(service_dir != NULL, NULL);

	relative = stdiolink_service_path_normalize(path, error);
	if (relative == NULL)
		return NULL;
	segments = g_strsplit(relative, "/", -1);
	n = g_strv_length(segments);

	sp = g_new0(StdiolinkServicePath, 1);
	sp->leaf = g_strdup(segments[n - 1]);
	sp->relative = g_steal_pointer(&relative);
	sp->parent_fd = open(service_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->parent_fd < 0) {
		int saved = errno;

		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot open service directory: %s", g_strerror(saved));
		return NULL;
	}

	if (!walk_folders(sp, segments, n, error) || !stat_leaf(sp, error))
		return NULL;
	return g_steal_pointer(&sp);
}

/**
 * stdiolink_service_path_get_relative:
 * @sp: a checked path
 *
 * Returns: the normalized relative path, e.g. `sub/a.txt` for `./sub//a.txt`
 */
const char *
stdiolink_service_path_get_relative(StdiolinkServicePath *sp)
{
	return sp->relative;
}

/**
 * stdiolink_service_path_exists:
 * @sp: a checked path
 *
 * Returns: %TRUE if something (a file, a folder...) is at the path
 */
gboolean
stdiolink_service_path_exists(StdiolinkServicePath *sp)
{
	return sp->exists;
}

/**
 * stdiolink_service_path_is_file:
 * @sp: a checked path
 *
 * Returns: %TRUE if a regular file is at the path
 */
gboolean
stdiolink_service_path_is_file(StdiolinkServicePath *sp)
{
	return sp->exists && S_ISREG(sp->st.st_mode);
}

/* ---- reading ----------------------------------------------------------------------- */

static char *
format_mtime(const struct stat *st)
{
	g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc(st->st_mtime);

	return stdiolink_time_to_iso8601(time, FALSE);
}

/* reads at most STDIOLINK_SERVICE_FILE_MAX + 1 bytes, so a file that grew is noticed */
static GByteArray *
read_bounded(int fd, GError **error)
{
	g_autoptr(GByteArray) bytes = g_byte_array_new();
	guint8 buf[65536];

	while (bytes->len <= STDIOLINK_SERVICE_FILE_MAX) {
		gssize n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
					    "failed to read file");
			return NULL;
		}
		if (n == 0)
			break;
		g_byte_array_append(bytes, buf, (guint)n);
	}
	if (bytes->len > STDIOLINK_SERVICE_FILE_MAX) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_PAYLOAD_TOO_LARGE,
				    "file too large (max 1MB)");
		return NULL;
	}
	return g_steal_pointer(&bytes);
}

static int
open_leaf_for_reading(StdiolinkServicePath *sp, struct stat *st, GError **error)
{
	/* O_NONBLOCK: a FIFO put there must not hang the worker */
	int fd = openat(sp->parent_fd, sp->leaf,
			O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ELOOP)
			path_rejected(error);
		else if (errno == ENOENT)
			file_not_found(error);
		else
			g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
					    "failed to read file");
		return -1;
	}
	if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
		close(fd);
		file_not_found(error);
		return -1;
	}
	if (st->st_size > STDIOLINK_SERVICE_FILE_MAX) {
		close(fd);
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_PAYLOAD_TOO_LARGE,
				    "file too large (max 1MB)");
		return -1;
	}
	return fd;
}

/**
 * stdiolink_service_path_read:
 * @sp: a checked path
 * @path_as_given: the path to echo in the answer
 * @error: return location for a #GError
 *
 * Reads a text file (http-api.md 4.10): invalid UTF-8 becomes U+FFFD. Errors:
 * %STDIOLINK_ERROR_NOT_FOUND `file not found` (missing or not a regular file),
 * %STDIOLINK_ERROR_PAYLOAD_TOO_LARGE `file too large (max 1MB)`,
 * %STDIOLINK_ERROR_INTERNAL `failed to read file`. Blocking I/O.
 *
 * Returns: (transfer full): `{"path","content","size","modifiedAt"}`, or %NULL
 */
JsonNode *
stdiolink_service_path_read(StdiolinkServicePath *sp, const char *path_as_given, GError **error)
{
	g_autoptr(GByteArray) bytes = NULL;
	g_autofree char *content = NULL;
	g_autofree char *modified = NULL;
	JsonObject *root;
	struct stat st;
	int fd;

	if (!stdiolink_service_path_is_file(sp)) {
		file_not_found(error);
		return NULL;
	}
	fd = open_leaf_for_reading(sp, &st, error);
	if (fd < 0)
		return NULL;
	bytes = read_bounded(fd, error);
	close(fd);
	if (bytes == NULL)
		return NULL;

	content = g_utf8_make_valid((const char *)bytes->data, bytes->len);
	modified = format_mtime(&st);
	root = json_object_new();
	json_object_set_string_member(root, "path", path_as_given);
	json_object_set_string_member(root, "content", content);
	json_object_set_int_member(root, "size", bytes->len);
	json_object_set_string_member(root, "modifiedAt", modified);
	return stdiolink_json_node_new_object(root);
}

/* ---- writing ----------------------------------------------------------------------- */

static gboolean
write_all(int fd, const char *data, gsize length)
{
	gsize done = 0;

	while (done < length) {
		gssize n = write(fd, data + done, MIN(length - done, (gsize)G_MAXSSIZE));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return FALSE;
		done += (gsize)n;
	}
	return TRUE;
}

/* writes a hidden temporary file in @dir_fd, synced, with @mode; returns its name */
static char *
write_temp(int dir_fd, const char *data, gsize length, mode_t mode, GError **error)
{
	g_autofree char *hex = stdiolink_random_hex(16);
	g_autofree char *name = g_strdup_printf(".stdiolink-%s.tmp", hex);
	int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	gboolean ok;

	if (fd < 0) {
		int saved = errno;

		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "failed to open for writing: %s", g_strerror(saved));
		return NULL;
	}
	ok = write_all(fd, data, length) && fchmod(fd, mode) == 0 && fsync(fd) == 0;
	if (close(fd) != 0)
		ok = FALSE;
	if (!ok) {
		unlinkat(dir_fd, name, 0);
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
				    "write incomplete");
		return NULL;
	}
	return g_steal_pointer(&name);
}

static gboolean
commit_failed(int dir_fd, const char *temp, int saved_errno, GError **error)
{
	unlinkat(dir_fd, temp, 0);
	g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL, "commit failed: %s",
		    g_strerror(saved_errno));
	return FALSE;
}

/**
 * stdiolink_service_path_replace:
 * @sp: a checked path to an existing regular file
 * @data: the new contents
 * @length: their length in bytes
 * @error: return location for a #GError
 *
 * Replaces the file atomically: a temporary file in the same folder, flushed, renamed
 * over it, with the old file's permissions (an executable entry stays executable). Two
 * writers at once leave one whole version. Errors: `file not found`, then the
 * %STDIOLINK_ERROR_INTERNAL texts of http-api.md 4.11. Blocking I/O.
 *
 * Returns: %TRUE on success
 */
gboolean
stdiolink_service_path_replace(StdiolinkServicePath *sp,
			       const char *data,
			       gsize length,
			       GError **error)
{
	g_autofree char *temp = NULL;

	if (!stdiolink_service_path_is_file(sp))
		return file_not_found(error);
	temp = write_temp(sp->parent_fd, data, length, sp->st.st_mode & 07777, error);
	if (temp == NULL)
		return FALSE;
	if (renameat(sp->parent_fd, temp, sp->parent_fd, sp->leaf) != 0)
		return commit_failed(sp->parent_fd, temp, errno, error);
	fsync(sp->parent_fd);
	return TRUE;
}

static gboolean
make_missing_folders(StdiolinkServicePath *sp, GError **error)
{
	for (guint i = 0; sp->missing != NULL && sp->missing[i] != NULL; i++) {
		int fd;

		if (mkdirat(sp->parent_fd, sp->missing[i], 0755) != 0 && errno != EEXIST)
			break;
		fd = openat(sp->parent_fd, sp->missing[i],
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			break;
		close(sp->parent_fd);
		sp->parent_fd = fd;
		if (sp->missing[i + 1] == NULL) {
			g_clear_pointer(&sp->missing, g_strfreev);
			return TRUE;
		}
	}
	if (sp->missing == NULL)
		return TRUE;
	g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "failed to create directory");
	return FALSE;
}

/* moves @temp to the leaf unless something is there already */
static gboolean
link_no_replace(StdiolinkServicePath *sp, const char *temp, GError **error)
{
	int saved;

	if (renameat2(sp->parent_fd, temp, sp->parent_fd, sp->leaf, RENAME_NOREPLACE) == 0)
		return TRUE;
	saved = errno;

	/* file systems without RENAME_NOREPLACE: a hard link refuses an existing name too */
	if (saved == EINVAL || saved == ENOSYS) {
		if (linkat(sp->parent_fd, temp, sp->parent_fd, sp->leaf, 0) == 0) {
			unlinkat(sp->parent_fd, temp, 0);
			return TRUE;
		}
		saved = errno;
	}
	if (saved == EEXIST) {
		unlinkat(sp->parent_fd, temp, 0);
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
				    "file already exists");
		return FALSE;
	}
	return commit_failed(sp->parent_fd, temp, saved, error);
}

/**
 * stdiolink_service_path_create:
 * @sp: a checked path to nothing yet
 * @data: the contents
 * @length: their length in bytes
 * @error: return location for a #GError
 *
 * Creates the missing folders on the way (`failed to create directory`), then the file,
 * atomically and without replacing anything that appeared meanwhile
 * (%STDIOLINK_ERROR_CONFLICT `file already exists`). The file gets mode 0644, or 0755
 * when it starts with `#!`, so a native service's entry can be written through the API.
 * Blocking I/O.
 *
 * Returns: %TRUE on success
 */
gboolean
stdiolink_service_path_create(StdiolinkServicePath *sp,
			      const char *data,
			      gsize length,
			      GError **error)
{
	g_autofree char *temp = NULL;
	mode_t mode = length >= 2 && data[0] == '#' && data[1] == '!' ? 0755 : 0644;

	if (sp->exists) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_CONFLICT,
				    "file already exists");
		return FALSE;
	}
	if (!make_missing_folders(sp, error))
		return FALSE;
	temp = write_temp(sp->parent_fd, data, length, mode, error);
	if (temp == NULL || !link_no_replace(sp, temp, error))
		return FALSE;
	fsync(sp->parent_fd);
	sp->exists = TRUE;
	return TRUE;
}

/**
 * stdiolink_service_path_delete:
 * @sp: a checked path
 * @error: return location for a #GError
 *
 * Deletes a file (http-api.md 4.13): `file not found` if nothing is there,
 * %STDIOLINK_ERROR_INTERNAL `failed to delete file` if it cannot be removed (a folder, for
 * instance). Blocking I/O.
 *
 * Returns: %TRUE on success
 */
gboolean
stdiolink_service_path_delete(StdiolinkServicePath *sp, GError **error)
{
	if (!sp->exists)
		return file_not_found(error);
	if (unlinkat(sp->parent_fd, sp->leaf, 0) != 0) {
		if (errno == ENOENT)
			return file_not_found(error);
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
				    "failed to delete file");
		return FALSE;
	}
	sp->exists = FALSE;
	return TRUE;
}

/* ---- listing ----------------------------------------------------------------------- */

/**
 * stdiolink_service_file_type:
 * @name: a file name
 *
 * Returns: `json`, `javascript`, `typescript`, `text` or `unknown`, by the name's suffix
 *   (case-sensitive, http-api.md 4.9)
 */
const char *
stdiolink_service_file_type(const char *name)
{
	static const char *const text[] = {".md",  ".txt", ".yaml", ".yml", ".toml",
					   ".cfg", ".ini", ".csv",  NULL};

	if (g_str_has_suffix(name, ".json"))
		return "json";
	if (g_str_has_suffix(name, ".js") || g_str_has_suffix(name, ".mjs"))
		return "javascript";
	if (g_str_has_suffix(name, ".ts"))
		return "typescript";
	for (guint i = 0; text[i] != NULL; i++) {
		if (g_str_has_suffix(name, text[i]))
			return "text";
	}
	return "unknown";
}

static JsonObject *
file_json(const char *name, const char *relative, const struct stat *st)
{
	JsonObject *object = json_object_new();
	g_autofree char *modified = format_mtime(st);

	json_object_set_string_member(object, "name", name);
	json_object_set_string_member(object, "path", relative);
	json_object_set_int_member(object, "size", st->st_size);
	json_object_set_string_member(object, "modifiedAt", modified);
	json_object_set_string_member(object, "type", stdiolink_service_file_type(name));
	return object;
}

static void list_folder(int dir_fd, const char *prefix, guint depth, GPtrArray *files);

static void
list_subfolder(int dir_fd, const char *name, const char *relative, guint depth, GPtrArray *files)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	list_folder(fd, relative, depth, files);
	close(fd);
}

/* regular files only; hidden names, links and names that are not UTF-8 are left out */
static void
list_folder(int dir_fd, const char *prefix, guint depth, GPtrArray *files)
{
	g_autoptr(GPtrArray) folders = g_ptr_array_new_with_free_func(g_free);
	int fd = dup(dir_fd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *entry;

	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((entry = readdir(dir)) != NULL) {
		const char *name = entry->d_name;
		g_autofree char *relative = NULL;
		struct stat st;

		if (name[0] == '.' || !g_utf8_validate(name, -1, NULL) ||
		    fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		relative = prefix != NULL ? g_strconcat(prefix, "/", name, NULL) : g_strdup(name);
		if (S_ISREG(st.st_mode))
			g_ptr_array_add(files, file_json(name, relative, &st));
		else if (S_ISDIR(st.st_mode) && depth < TREE_DEPTH_LIMIT)
			g_ptr_array_add(folders, g_strdup(name));
	}
	closedir(dir);

	/* one folder open per level, not one per entry */
	for (guint i = 0; i < folders->len; i++) {
		const char *name = folders->pdata[i];
		g_autofree char *relative =
		    prefix != NULL ? g_strconcat(prefix, "/", name, NULL) : g_strdup(name);

		list_subfolder(dir_fd, name, relative, depth + 1, files);
	}
}

static gint
compare_paths(gconstpointer a, gconstpointer b)
{
	JsonObject *file_a = *(JsonObject *const *)a;
	JsonObject *file_b = *(JsonObject *const *)b;

	return strcmp(json_object_get_string_member(file_a, "path"),
		      json_object_get_string_member(file_b, "path"));
}

/**
 * stdiolink_service_files_list:
 * @service_dir: the service folder
 * @error: return location for a #GError
 *
 * Lists the regular files below @service_dir (http-api.md 4.9): hidden files and folders
 * are left out, links are neither listed nor followed, folders deeper than 64 levels are
 * not entered. Sorted by path. Blocking I/O.
 *
 * Returns: (transfer full): an array node of `{"name","path","size","modifiedAt","type"}`
 */
JsonNode *
stdiolink_service_files_list(const char *service_dir, GError **error)
{
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(
	    (GDestroyNotify)json_object_unref);
	JsonArray *array;
	JsonNode *node;
	int fd;

	g_return_val_if_fail(service_dir != NULL, NULL);

	fd = open(service_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int saved = errno;

		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
			    "cannot open service directory: %s", g_strerror(saved));
		return NULL;
	}
	list_folder(fd, NULL, 0, files);
	close(fd);

	g_ptr_array_sort(files, compare_paths);
	array = json_array_new();
	for (guint i = 0; i < files->len; i++)
		json_array_add_object_element(array, json_object_ref(files->pdata[i]));
	node = json_node_new(JSON_NODE_ARRAY);
	json_node_take_array(node, array);
	return node;
}

/* ---- request bodies and special files ------------------------------------------------ */

static gboolean
is_blank(const char *data, gsize length)
{
	for (gsize i = 0; i < length; i++) {
		if (!g_ascii_isspace(data[i]))
			return FALSE;
	}
	return TRUE;
}

/**
 * stdiolink_service_file_content_from_body:
 * @body: (nullable): the raw request body
 * @required: whether `content` must be present (PUT) or defaults to "" (POST)
 * @error: return location for a #GError
 *
 * Parses a files API body in the order of http-api.md 4.11/4.12: over 1 MiB ->
 * %STDIOLINK_ERROR_PAYLOAD_TOO_LARGE `request body too large (limit 1MB)`; blank counts
 * as `{}`; not a JSON object -> `request body must be a JSON object`; `content` not a
 * string -> `missing required string field: content` when @required; over 1 MiB of text
 * -> `content too large (max 1MB)`.
 *
 * Returns: (transfer full): the content, or %NULL with @error set
 */
char *
stdiolink_service_file_content_from_body(GBytes *body, gboolean required, GError **error)
{
	gsize length = 0;
	const char *data = body != NULL ? g_bytes_get_data(body, &length) : NULL;
	g_autoptr(JsonNode) node = NULL;
	const char *content = NULL;

	if (length > STDIOLINK_SERVICE_FILE_MAX) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_PAYLOAD_TOO_LARGE,
				    "request body too large (limit 1MB)");
		return NULL;
	}
	if (data != NULL && !is_blank(data, length)) {
		node = stdiolink_json_parse(data, (gssize)length, NULL);
		if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node)) {
			g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
					    "request body must be a JSON object");
			return NULL;
		}
		content = stdiolink_json_object_get_string(json_node_get_object(node), "content");
	}
	if (content == NULL && required) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
				    "missing required string field: content");
		return NULL;
	}
	if (content != NULL && strlen(content) > STDIOLINK_SERVICE_FILE_MAX) {
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_PAYLOAD_TOO_LARGE,
				    "content too large (max 1MB)");
		return NULL;
	}
	return g_strdup(content != NULL ? content : "");
}

static JsonObject *
parse_object(const char *content)
{
	g_autoptr(JsonNode) node = stdiolink_json_parse(content, -1, NULL);

	if (node == NULL || !JSON_NODE_HOLDS_OBJECT(node))
		return NULL;
	return json_object_ref(json_node_get_object(node));
}

/**
 * stdiolink_service_file_check_content:
 * @relative: the normalized relative path
 * @content: the text to be written
 * @error: return location for a #GError
 *
 * `manifest.json` must be a JSON object that passes the manifest rules;
 * `config.schema.json` must be a JSON object (its types are checked by the reload). Other
 * files are not checked. Failures are %STDIOLINK_ERROR_BAD_REQUEST with the texts of
 * http-api.md 4.11.
 *
 * Returns: %TRUE if @content may be written
 */
gboolean
stdiolink_service_file_check_content(const char *relative, const char *content, GError **error)
{
	g_autoptr(JsonObject) object = NULL;
	g_autoptr(GError) manifest_error = NULL;
	gboolean manifest = g_str_equal(relative, "manifest.json");

	if (!manifest && !g_str_equal(relative, "config.schema.json"))
		return TRUE;
	object = parse_object(content);
	if (object == NULL) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "%s must be valid JSON object", relative);
		return FALSE;
	}
	if (manifest && !stdiolink_service_check_manifest(object, &manifest_error)) {
		g_set_error(error, STDIOLINK_ERROR, STDIOLINK_ERROR_BAD_REQUEST,
			    "invalid manifest: %s", manifest_error->message);
		return FALSE;
	}
	return TRUE;
}

/* ---- removing a service folder ------------------------------------------------------- */

/* deletes @name below @dir_fd and everything in it, never following a link */
static gboolean
remove_tree_at(int dir_fd, const char *name, guint depth)
{
	g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func(g_free);
	struct dirent *entry;
	struct stat st;
	gboolean ok = TRUE;
	DIR *dir;
	int fd;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dir_fd, name, 0) == 0 || errno == ENOENT;
	if (depth >= TREE_DEPTH_LIMIT)
		return FALSE;

	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (dir == NULL) {
		if (fd >= 0)
			close(fd);
		return FALSE;
	}
	while ((entry = readdir(dir)) != NULL) {
		if (!g_str_equal(entry->d_name, ".") && !g_str_equal(entry->d_name, ".."))
			g_ptr_array_add(children, g_strdup(entry->d_name));
	}
	for (guint i = 0; i < children->len; i++) {
		if (!remove_tree_at(dirfd(dir), children->pdata[i], depth + 1))
			ok = FALSE;
	}
	closedir(dir);
	return unlinkat(dir_fd, name, AT_REMOVEDIR) == 0 && ok;
}

/**
 * stdiolink_service_dir_remove:
 * @dir: a service folder
 * @error: return location for a #GError
 *
 * Deletes a service folder and everything in it without following links: a folder that is
 * itself a link loses only the link, never what it points to. The folder is first renamed
 * to a hidden name in one step, so scans see the whole service or none of it; what a
 * failed recursive delete leaves behind is only logged. %STDIOLINK_ERROR_INTERNAL
 * `failed to remove service directory` when the folder cannot be taken away. Blocking I/O.
 *
 * Returns: %TRUE on success
 */
gboolean
stdiolink_service_dir_remove(const char *dir, GError **error)
{
	g_autofree char *parent = g_path_get_dirname(dir);
	g_autofree char *name = g_path_get_basename(dir);
	g_autofree char *hex = stdiolink_random_hex(16);
	g_autofree char *doomed = g_strdup_printf(".stdiolink-removing-%s", hex);
	int parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	gboolean ok;

	if (parent_fd < 0 || renameat(parent_fd, name, parent_fd, doomed) != 0) {
		if (parent_fd >= 0)
			close(parent_fd);
		g_set_error_literal(error, STDIOLINK_ERROR, STDIOLINK_ERROR_INTERNAL,
				    "failed to remove service directory");
		return FALSE;
	}
	ok = remove_tree_at(parent_fd, doomed, 0);
	close(parent_fd);
	if (!ok)
		g_warning("service directory %s removed, but some of %s/%s could not be deleted",
			  dir, parent, doomed);
	return TRUE;
}

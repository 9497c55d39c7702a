#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "stdiolink-driver.h"
#include "stdiolink-driver-private.h"
#include "stdiolink-error.h"
#include "stdiolink-json.h"
#include "stdiolink-schema.h"
#include "stdiolink-service.h"

/*
 * The driver catalogue: one entry per `drivers/<dir>/` whose `driver.meta.json` names an
 * id and which holds a `stdio.drv.*` executable (data-root.md 7, scanning.md 3.1). Like
 * services, drivers are immutable once loaded and may be created in a worker thread.
 */

#define META_FILE_NAME "driver.meta.json"
#define EXECUTABLE_PREFIX "stdio.drv."
#define FAILED_SUFFIX ".failed"

struct _StdiolinkDriver {
	GObject parent_instance;

	char *id;
	char *dir;
	char *program;
	char *meta_hash;
	char *name;
	char *version;
	JsonObject *meta;
};

G_DEFINE_FINAL_TYPE(StdiolinkDriver, stdiolink_driver, G_TYPE_OBJECT)

static void
stdiolink_driver_finalize(GObject *object)
{
	StdiolinkDriver *self = STDIOLINK_DRIVER(object);

	g_free(self->id);
	g_free(self->dir);
	g_free(self->program);
	g_free(self->meta_hash);
	g_free(self->name);
	g_free(self->version);
	g_clear_pointer(&self->meta, json_object_unref);

	G_OBJECT_CLASS(stdiolink_driver_parent_class)->finalize(object);
}

static void
stdiolink_driver_class_init(StdiolinkDriverClass *klass)
{
	G_OBJECT_CLASS(klass)->finalize = stdiolink_driver_finalize;
}

static void
stdiolink_driver_init(StdiolinkDriver *self)
{
}

/* ---- Qt-style lenient readers ------------------------------------------------------ */

/*
 * The earlier server read meta files with QJsonValue conversions: a value of the wrong
 * type reads as "", {} or [] instead of failing. These helpers reproduce that; a %NULL
 * object stands for {}.
 */

static JsonNode *
member_node(JsonObject *object, const char *member)
{
	return object != NULL ? json_object_get_member(object, member) : NULL;
}

static gboolean
has_member(JsonObject *object, const char *member)
{
	return object != NULL && json_object_has_member(object, member);
}

static const char *
node_string(JsonNode *node)
{
	return stdiolink_json_node_is_string(node) ? json_node_get_string(node) : "";
}

static const char *
member_string(JsonObject *object, const char *member)
{
	return node_string(member_node(object, member));
}

static JsonObject *
node_object(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
}

static JsonObject *
member_object(JsonObject *object, const char *member)
{
	return node_object(member_node(object, member));
}

static JsonArray *
member_array(JsonObject *object, const char *member)
{
	JsonNode *node = member_node(object, member);

	return node != NULL && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : NULL;
}

static guint
array_length(JsonArray *array)
{
	return array != NULL ? json_array_get_length(array) : 0;
}

/* `info` wins over its alias `driver` whenever the key exists, whatever its type */
static JsonObject *
meta_info(JsonObject *meta)
{
	if (has_member(meta, "info"))
		return member_object(meta, "info");
	return member_object(meta, "driver");
}

static void
set_nonempty_string(JsonObject *out, const char *member, const char *value)
{
	if (*value != '\0')
		json_object_set_string_member(out, member, value);
}

static void
set_nonempty_array(JsonObject *out, const char *member, JsonArray *array)
{
	if (json_array_get_length(array) > 0)
		json_object_set_array_member(out, member, array);
	else
		json_array_unref(array);
}

static void
set_nonempty_object(JsonObject *out, const char *member, JsonObject *object)
{
	if (object != NULL && json_object_get_size(object) > 0)
		json_object_set_object_member(out, member, object);
	else if (object != NULL)
		json_object_unref(object);
}

/* ---- meta normalization (schema.md 6) ---------------------------------------------- */

static JsonNode *
normalize_field(JsonNode *node)
{
	g_autoptr(JsonObject) empty = json_object_new();
	JsonObject *object = node_object(node);
	g_autoptr(StdiolinkFieldMeta) field =
	    stdiolink_field_meta_new_from_json(object != NULL ? object : empty);

	return stdiolink_field_meta_to_json(field);
}

/* a FieldMeta[] member; non-object entries read as {} (a field of type any) */
static JsonArray *
normalize_fields(JsonObject *object, const char *member)
{
	JsonArray *source = member_array(object, member);
	JsonArray *out = json_array_new();

	for (guint i = 0; i < array_length(source); i++)
		json_array_add_element(out, normalize_field(json_array_get_element(source, i)));
	return out;
}

/* errors[] and examples[] entries are kept verbatim; non-objects become {} */
static JsonArray *
normalize_objects(JsonObject *object, const char *member)
{
	JsonArray *source = member_array(object, member);
	JsonArray *out = json_array_new();

	for (guint i = 0; i < array_length(source); i++) {
		JsonObject *entry = node_object(json_array_get_element(source, i));

		json_array_add_object_element(out, entry != NULL ? json_object_ref(entry)
								 : json_object_new());
	}
	return out;
}

static JsonArray *
normalize_strings(JsonObject *object, const char *member)
{
	JsonArray *source = member_array(object, member);
	JsonArray *out = json_array_new();

	for (guint i = 0; i < array_length(source); i++)
		json_array_add_string_element(out,
					      node_string(json_array_get_element(source, i)));
	return out;
}

static JsonObject *
normalize_ui(JsonObject *object)
{
	if (!has_member(object, "ui"))
		return NULL;
	return stdiolink_ui_hint_normalize(json_object_get_member(object, "ui"));
}

static JsonObject *
normalize_info(JsonObject *info)
{
	JsonObject *out = json_object_new();
	JsonObject *entry = member_object(info, "entry");

	json_object_set_string_member(out, "id", member_string(info, "id"));
	json_object_set_string_member(out, "name", member_string(info, "name"));
	json_object_set_string_member(out, "version", member_string(info, "version"));
	set_nonempty_string(out, "description", member_string(info, "description"));
	set_nonempty_string(out, "vendor", member_string(info, "vendor"));
	if (entry != NULL && json_object_get_size(entry) > 0)
		json_object_set_object_member(out, "entry", json_object_ref(entry));
	set_nonempty_array(out, "capabilities", normalize_strings(info, "capabilities"));
	set_nonempty_array(out, "profiles", normalize_strings(info, "profiles"));
	return out;
}

static JsonObject *
normalize_apply(JsonObject *apply)
{
	static const char *const keys[] = {"method", "envPrefix", "command", "fileName"};
	JsonObject *out = json_object_new();

	for (guint i = 0; i < G_N_ELEMENTS(keys); i++)
		set_nonempty_string(out, keys[i], member_string(apply, keys[i]));
	return out;
}

/* %NULL when the config has neither fields nor an apply method: it is then omitted */
static JsonObject *
normalize_config(JsonObject *config)
{
	g_autoptr(JsonArray) fields = normalize_fields(config, "fields");
	JsonObject *apply = normalize_apply(member_object(config, "apply"));
	JsonObject *out;

	if (json_array_get_length(fields) == 0 && !json_object_has_member(apply, "method")) {
		json_object_unref(apply);
		return NULL;
	}
	out = json_object_new();
	set_nonempty_array(out, "fields", g_steal_pointer(&fields));
	json_object_set_object_member(out, "apply", apply);
	return out;
}

static JsonObject *
normalize_returns(JsonObject *command)
{
	JsonObject *returns = member_object(command, "returns");
	JsonObject *out = json_object_new();
	StdiolinkFieldType type = STDIOLINK_FIELD_ANY;

	/* a command without `returns` returns an object; one without a type returns any */
	if (!has_member(command, "returns")) {
		json_object_set_string_member(out, "type", "object");
		return out;
	}
	if (!stdiolink_field_type_from_string(member_string(returns, "type"), &type))
		type = STDIOLINK_FIELD_ANY;
	json_object_set_string_member(out, "type", stdiolink_field_type_to_string(type));
	set_nonempty_string(out, "description", member_string(returns, "description"));
	set_nonempty_array(out, "fields", normalize_fields(returns, "fields"));
	return out;
}

static JsonArray *
normalize_events(JsonObject *command)
{
	JsonArray *source = member_array(command, "events");
	JsonArray *out = json_array_new();

	for (guint i = 0; i < array_length(source); i++) {
		JsonObject *event = node_object(json_array_get_element(source, i));
		JsonObject *item = json_object_new();

		json_object_set_string_member(item, "name", member_string(event, "name"));
		set_nonempty_string(item, "description", member_string(event, "description"));
		set_nonempty_array(item, "fields", normalize_fields(event, "fields"));
		json_array_add_object_element(out, item);
	}
	return out;
}

static JsonObject *
normalize_command(JsonObject *command)
{
	JsonObject *out = json_object_new();

	json_object_set_string_member(out, "name", member_string(command, "name"));
	set_nonempty_string(out, "description", member_string(command, "description"));
	set_nonempty_string(out, "title", member_string(command, "title"));
	set_nonempty_string(out, "summary", member_string(command, "summary"));
	set_nonempty_array(out, "params", normalize_fields(command, "params"));
	json_object_set_object_member(out, "returns", normalize_returns(command));
	set_nonempty_array(out, "events", normalize_events(command));
	set_nonempty_array(out, "errors", normalize_objects(command, "errors"));
	set_nonempty_array(out, "examples", normalize_objects(command, "examples"));
	set_nonempty_object(out, "ui", normalize_ui(command));
	return out;
}

static JsonArray *
normalize_commands(JsonObject *meta)
{
	JsonArray *source = member_array(meta, "commands");
	JsonArray *out = json_array_new();

	for (guint i = 0; i < array_length(source); i++) {
		JsonObject *command = node_object(json_array_get_element(source, i));

		json_array_add_object_element(out, normalize_command(command));
	}
	return out;
}

static JsonObject *
normalize_types(JsonObject *meta)
{
	JsonObject *types = member_object(meta, "types");
	JsonObject *out = json_object_new();
	g_autoptr(GList) names = types != NULL ? json_object_get_members(types) : NULL;

	for (GList *l = names; l != NULL; l = l->next)
		json_object_set_member(out, l->data,
				       normalize_field(json_object_get_member(types, l->data)));
	return out;
}

/**
 * stdiolink_driver_meta_normalize:
 * @raw: a driver meta object as read from `driver.meta.json`
 *
 * Re-serializes a DriverMeta the way the earlier server did (schema.md section 6): `driver`
 * is read as `info`; `schemaVersion`, `info.id`, `info.name`, `info.version` and every
 * command's `returns` are always present; empty lists and unknown keys are dropped; field
 * descriptors are normalized as FieldMeta; values of the wrong type read as empty.
 *
 * Returns: (transfer full): the normalized object node
 */
JsonNode *
stdiolink_driver_meta_normalize(JsonObject *raw)
{
	JsonObject *out;

	g_return_val_if_fail(raw != NULL, NULL);

	out = json_object_new();
	json_object_set_string_member(out, "schemaVersion", member_string(raw, "schemaVersion"));
	json_object_set_object_member(out, "info", normalize_info(meta_info(raw)));
	if (has_member(raw, "config")) {
		JsonObject *config = normalize_config(member_object(raw, "config"));

		if (config != NULL)
			json_object_set_object_member(out, "config", config);
	}
	set_nonempty_array(out, "commands", normalize_commands(raw));
	set_nonempty_object(out, "types", normalize_types(raw));
	set_nonempty_array(out, "errors", normalize_objects(raw, "errors"));
	set_nonempty_array(out, "examples", normalize_objects(raw, "examples"));

	return stdiolink_json_node_new_object(out);
}

/* ---- loading ----------------------------------------------------------------------- */

static gboolean
is_executable_file(const char *path)
{
	return g_file_test(path, G_FILE_TEST_IS_REGULAR) && g_access(path, X_OK) == 0;
}

/**
 * stdiolink_driver_find_executable:
 * @dir: a driver folder
 *
 * Finds the driver program (data-root.md 7): the first entry of @dir, in case-insensitive
 * name order, whose name starts with `stdio.drv.` and which is an executable regular file
 * or a symbolic link to one.
 *
 * Returns: (transfer full) (nullable): its absolute path, or %NULL if there is none
 */
char *
stdiolink_driver_find_executable(const char *dir)
{
	g_autofree char *abs_dir = NULL;
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GDir) handle = NULL;
	const char *name;

	g_return_val_if_fail(dir != NULL, NULL);

	abs_dir = g_canonicalize_filename(dir, NULL);
	handle = g_dir_open(abs_dir, 0, NULL);
	if (handle == NULL)
		return NULL;
	while ((name = g_dir_read_name(handle)) != NULL) {
		g_autofree char *path = NULL;

		if (!g_str_has_prefix(name, EXECUTABLE_PREFIX))
			continue;
		path = g_build_filename(abs_dir, name, NULL);
		if (is_executable_file(path))
			g_ptr_array_add(names, g_strdup(name));
	}
	if (names->len == 0)
		return NULL;

	stdiolink_scan_sort_names(names);
	return g_build_filename(abs_dir, g_ptr_array_index(names, 0), NULL);
}

static gboolean
read_fully(int fd, char *buf, gsize size, gsize *length)
{
	*length = 0;
	while (*length < size) {
		gssize n = read(fd, buf + *length, size - *length);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return FALSE;
		if (n == 0)
			break;
		*length += (gsize)n;
	}
	return TRUE;
}

static GBytes *
read_open_file(int fd, const char *path, int *mode, GError **error)
{
	g_autofree char *buf = NULL;
	struct stat st;
	gsize length;

	/* the type and size first: a FIFO, a device or an oversized file is never read */
	if (fstat(fd, &st) != 0) {
		stdiolink_set_invalid_data(error, "cannot read %s: %s", path, g_strerror(errno));
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		stdiolink_set_invalid_data(error, "%s is not a regular file", path);
		return NULL;
	}
	if (st.st_size > STDIOLINK_DRIVER_META_MAX_BYTES) {
		stdiolink_set_invalid_data(error, "%s is larger than %d bytes", path,
					   STDIOLINK_DRIVER_META_MAX_BYTES);
		return NULL;
	}

	/* one byte more than the size tells a file that grew meanwhile */
	buf = g_malloc((gsize)st.st_size + 1);
	if (!read_fully(fd, buf, (gsize)st.st_size + 1, &length)) {
		stdiolink_set_invalid_data(error, "cannot read %s: %s", path, g_strerror(errno));
		return NULL;
	}
	if (length > (gsize)st.st_size) {
		stdiolink_set_invalid_data(error, "%s changed while being read", path);
		return NULL;
	}

	if (mode != NULL)
		*mode = (int)(st.st_mode & 07777);
	return g_bytes_new_take(g_steal_pointer(&buf), length);
}

/**
 * stdiolink_driver_read_meta_file: (skip)
 * @path: a `driver.meta.json`, or a copy of one
 * @mode: (out) (optional): its permission bits
 * @error: return location for a #GError
 *
 * Reads a whole meta file without ever waiting on it: the file is opened non-blocking and
 * refused unless it is a regular file, so a FIFO or a device named like a meta file is
 * never read; one larger than %STDIOLINK_DRIVER_META_MAX_BYTES is refused unread. Symbolic
 * links are followed. Failures are %STDIOLINK_ERROR_INVALID_DATA and name @path. Safe to
 * call from a worker thread.
 *
 * Returns: (transfer full): the bytes, or %NULL with @error set
 */
GBytes *
stdiolink_driver_read_meta_file(const char *path, int *mode, GError **error)
{
	GBytes *bytes;
	int fd;

	g_return_val_if_fail(path != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer */
	fd = g_open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
	if (fd < 0) {
		stdiolink_set_invalid_data(error, "cannot open %s: %s", path, g_strerror(errno));
		return NULL;
	}
	bytes = read_open_file(fd, path, mode, error);
	g_close(fd, NULL);
	return bytes;
}

static JsonObject *
read_meta(const char *path, char **hash, GError **error)
{
	g_autoptr(GBytes) bytes = NULL;
	g_autoptr(GError) local_error = NULL;
	g_autoptr(JsonNode) root = NULL;
	const char *contents;
	gsize length;

	bytes = stdiolink_driver_read_meta_file(path, NULL, error);
	if (bytes == NULL)
		return NULL;
	contents = g_bytes_get_data(bytes, &length);
	if (length == 0)
		contents = "";
	root = stdiolink_json_parse(contents, (gssize)length, &local_error);
	if (root == NULL) {
		stdiolink_set_invalid_data(error, "driver meta parse error: %s: %s", path,
					   local_error->message);
		return NULL;
	}
	if (!JSON_NODE_HOLDS_OBJECT(root)) {
		stdiolink_set_invalid_data(error, "driver meta must contain a JSON object: %s",
					   path);
		return NULL;
	}

	/* the hash covers the bytes as read, not the normalized form */
	*hash = g_compute_checksum_for_data(G_CHECKSUM_MD5, (const guchar *)contents, length);
	return json_object_ref(json_node_get_object(root));
}

/**
 * stdiolink_driver_load:
 * @dir: a driver folder
 * @error: return location for a #GError
 *
 * Loads one driver folder from its existing `driver.meta.json`, which must be a regular file
 * (or a symbolic link to one) of at most 8 MiB holding a JSON object with a non-empty
 * `info.id` (or `driver.id`), and its `stdio.drv.*` executable. The meta file is read
 * without ever blocking: a FIFO or a device in its place is refused, not waited on.
 * Failures are %STDIOLINK_ERROR_INVALID_DATA. Safe to call from a worker thread.
 *
 * Returns: (transfer full): the driver, or %NULL with @error set
 */
StdiolinkDriver *
stdiolink_driver_load(const char *dir, GError **error)
{
	g_autoptr(StdiolinkDriver) self = NULL;
	g_autofree char *meta_path = NULL;
	JsonObject *info;

	g_return_val_if_fail(dir != NULL, NULL);
	g_return_val_if_fail(error == NULL || *error == NULL, NULL);

	self = g_object_new(STDIOLINK_TYPE_DRIVER, NULL);
	self->dir = g_canonicalize_filename(dir, NULL);
	meta_path = g_build_filename(self->dir, META_FILE_NAME, NULL);
	if (!g_file_test(meta_path, G_FILE_TEST_EXISTS)) {
		stdiolink_set_invalid_data(error, "missing %s in driver directory: %s",
					   META_FILE_NAME, self->dir);
		return NULL;
	}

	self->meta = read_meta(meta_path, &self->meta_hash, error);
	if (self->meta == NULL)
		return NULL;
	json_object_seal(self->meta);
	info = meta_info(self->meta);
	if (*member_string(info, "id") == '\0') {
		stdiolink_set_invalid_data(error, "driver meta has no info.id: %s", meta_path);
		return NULL;
	}
	self->id = g_strdup(member_string(info, "id"));
	self->name = g_strdup(member_string(info, "name"));
	self->version = g_strdup(member_string(info, "version"));

	self->program = stdiolink_driver_find_executable(self->dir);
	if (self->program == NULL) {
		stdiolink_set_invalid_data(
		    error, "no executable " EXECUTABLE_PREFIX "* in driver directory: %s",
		    self->dir);
		return NULL;
	}
	return g_steal_pointer(&self);
}

static void
log_skipped(const char *dir, const char *reason)
{
	g_log_structured(G_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
			 "STDIOLINK_DRIVER_DIR", dir,
			 "STDIOLINK_REASON", reason,
			 "MESSAGE", "driver scan: skipping %s: %s", dir, reason);
}

static gint
compare_driver_ids(gconstpointer a, gconstpointer b)
{
	StdiolinkDriver *da = *(StdiolinkDriver *const *)a;
	StdiolinkDriver *db = *(StdiolinkDriver *const *)b;

	return strcmp(da->id, db->id);
}

/**
 * stdiolink_driver_catalog_load:
 * @drivers_dir: the `drivers/` folder
 * @stats: (out caller-allocates) (optional): the counters of the scan
 *
 * Builds the driver catalogue from the metadata files already on disk (scanning.md 3.1
 * without the export step): `*.failed` folders are skipped, a folder without a usable
 * meta file or executable is skipped and logged, and a later folder replaces an earlier
 * one with the same id. Meta files are read as stdiolink_driver_load() reads them, never
 * blocking. Nothing is written: what an interrupted stdiolink_driver_scan_async() left in
 * a folder is settled by the next scan. A missing @drivers_dir gives an empty catalogue.
 * Safe to call from a worker thread.
 *
 * Returns: (transfer container) (element-type StdiolinkDriver): the drivers, by id
 */
GPtrArray *
stdiolink_driver_catalog_load(const char *drivers_dir, StdiolinkDriverScanStats *stats)
{
	g_autoptr(GPtrArray) names = NULL;
	g_autoptr(GHashTable) by_id = NULL;
	StdiolinkDriverScanStats counts = {0};
	GHashTableIter iter;
	gpointer value;
	GPtrArray *drivers;

	g_return_val_if_fail(drivers_dir != NULL, NULL);

	by_id = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_object_unref);
	names = stdiolink_scan_list_subdirs(drivers_dir, NULL);
	if (names == NULL)
		names = g_ptr_array_new_with_free_func(g_free);
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		g_autofree char *path = NULL;
		g_autoptr(GError) error = NULL;
		StdiolinkDriver *driver;

		if (g_str_has_suffix(name, FAILED_SUFFIX)) {
			counts.skipped_failed++;
			continue;
		}

		counts.scanned++;
		path = g_build_filename(drivers_dir, name, NULL);
		driver = stdiolink_driver_load(path, &error);
		if (driver == NULL) {
			log_skipped(path, error->message);
			continue;
		}

		/* the key lives in the value, so replace both together */
		g_hash_table_remove(by_id, driver->id);
		g_hash_table_insert(by_id, driver->id, driver);
		counts.updated++;
	}

	drivers = g_ptr_array_new_with_free_func(g_object_unref);
	g_hash_table_iter_init(&iter, by_id);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		g_ptr_array_add(drivers, g_object_ref(value));
	g_ptr_array_sort(drivers, compare_driver_ids);

	if (stats != NULL)
		*stats = counts;
	return drivers;
}

/* ---- accessors --------------------------------------------------------------------- */

/**
 * stdiolink_driver_get_id:
 * @self: a #StdiolinkDriver
 *
 * Returns: the driver id, `info.id` of its meta
 */
const char *
stdiolink_driver_get_id(StdiolinkDriver *self)
{
	g_return_val_if_fail(STDIOLINK_IS_DRIVER(self), NULL);
	return self->id;
}

/**
 * stdiolink_driver_get_dir:
 * @self: a #StdiolinkDriver
 *
 * Returns: the absolute driver folder
 */
const char *
stdiolink_driver_get_dir(StdiolinkDriver *self)
{
	g_return_val_if_fail(STDIOLINK_IS_DRIVER(self), NULL);
	return self->dir;
}

/**
 * stdiolink_driver_get_program:
 * @self: a #StdiolinkDriver
 *
 * Returns: the absolute path of the `stdio.drv.*` executable
 */
const char *
stdiolink_driver_get_program(StdiolinkDriver *self)
{
	g_return_val_if_fail(STDIOLINK_IS_DRIVER(self), NULL);
	return self->program;
}

/**
 * stdiolink_driver_get_meta_hash:
 * @self: a #StdiolinkDriver
 *
 * Returns: the lower-case hex MD5 of the meta file bytes
 */
const char *
stdiolink_driver_get_meta_hash(StdiolinkDriver *self)
{
	g_return_val_if_fail(STDIOLINK_IS_DRIVER(self), NULL);
	return self->meta_hash;
}

/**
 * stdiolink_driver_get_meta:
 * @self: a #StdiolinkDriver
 *
 * Returns: (transfer none): the meta object as read from disk, sealed
 */
JsonObject *
stdiolink_driver_get_meta(StdiolinkDriver *self)
{
	g_return_val_if_fail(STDIOLINK_IS_DRIVER(self), NULL);
	return self->meta;
}

/**
 * stdiolink_driver_get_name:
 * @self: a #StdiolinkDriver
 *
 * Returns: `info.name` of the meta, "" if absent
 */
const char *
stdiolink_driver_get_name(StdiolinkDriver *self)
{
	g_return_val_if_fail(STDIOLINK_IS_DRIVER(self), NULL);
	return self->name;
}

/**
 * stdiolink_driver_get_version:
 * @self: a #StdiolinkDriver
 *
 * Returns: `info.version` of the meta, "" if absent
 */
const char *
stdiolink_driver_get_version(StdiolinkDriver *self)
{
	g_return_val_if_fail(STDIOLINK_IS_DRIVER(self), NULL);
	return self->version;
}

/* ---- JSON views -------------------------------------------------------------------- */

static JsonObject *
build_common_view(StdiolinkDriver *self, const char *data_root)
{
	JsonObject *object = json_object_new();
	g_autofree char *display = stdiolink_path_display(self->program, data_root);

	json_object_set_string_member(object, "id", self->id);
	json_object_set_string_member(object, "program", self->program);
	json_object_set_string_member(object, "programDisplay", display);
	json_object_set_string_member(object, "metaHash", self->meta_hash);
	return object;
}

/**
 * stdiolink_driver_to_list_json:
 * @self: a #StdiolinkDriver
 * @data_root: the absolute data root
 *
 * Renders one entry of `GET /api/drivers` (http-api.md 7.1).
 *
 * Returns: (transfer full): an object node
 */
JsonNode *
stdiolink_driver_to_list_json(StdiolinkDriver *self, const char *data_root)
{
	JsonObject *object;

	g_return_val_if_fail(STDIOLINK_IS_DRIVER(self), NULL);
	g_return_val_if_fail(data_root != NULL, NULL);

	object = build_common_view(self, data_root);
	json_object_set_string_member(object, "name", self->name);
	json_object_set_string_member(object, "version", self->version);
	return stdiolink_json_node_new_object(object);
}

/**
 * stdiolink_driver_to_detail_json:
 * @self: a #StdiolinkDriver
 * @data_root: the absolute data root
 *
 * Renders `GET /api/drivers/{id}` (http-api.md 7.2), with the normalized meta.
 *
 * Returns: (transfer full): an object node
 */
JsonNode *
stdiolink_driver_to_detail_json(StdiolinkDriver *self, const char *data_root)
{
	JsonObject *object;

	g_return_val_if_fail(STDIOLINK_IS_DRIVER(self), NULL);
	g_return_val_if_fail(data_root != NULL, NULL);

	object = build_common_view(self, data_root);
	json_object_set_member(object, "meta", stdiolink_driver_meta_normalize(self->meta));
	return stdiolink_json_node_new_object(object);
}

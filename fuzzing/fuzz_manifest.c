#include "config.h"

#include <glib/gstdio.h>

#include "fuzz-common.h"
#include "stdiolink.h"

/*
 * Input: manifest.json, NUL, config.schema.json (`{}` when absent). The daemon only loads
 * services from a folder, and the entry checks look at real files, so both are written to
 * a scratch service folder beside an index.js and an executable `run`, and the folder is
 * loaded as a scan would. The manifest is also checked alone, as the service-file API does.
 */

static char *scratch_root;
static char *service_dir;

static void
remove_scratch(void)
{
	const char *const names[] = {"manifest.json", "config.schema.json", "index.js", "run"};

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		g_autofree char *path = g_build_filename(service_dir, names[i], NULL);

		g_unlink(path);
	}
	g_rmdir(service_dir);
	g_rmdir(scratch_root);
}

static void
write_file(const char *name, const void *data, gsize length)
{
	g_autofree char *path = g_build_filename(service_dir, name, NULL);
	g_autoptr(GError) error = NULL;

	/*
	 * without the fsync of g_file_set_contents(): a scratch file needs no safety. GLib 2.74
	 * does not truncate in this mode, so the old file goes first.
	 */
	g_unlink(path);
	if (!g_file_set_contents_full(path, data != NULL ? data : "", (gssize)length,
				      G_FILE_SET_CONTENTS_NONE, 0600, &error))
		g_error("%s", error->message);
}

/* one folder for the whole run, made on first use: the files are rewritten each time */
static void
ensure_scratch(void)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *run = NULL;

	if (service_dir != NULL)
		return;
	scratch_root = g_dir_make_tmp("fuzz-manifest-XXXXXX", &error);
	if (scratch_root == NULL)
		g_error("%s", error->message);
	service_dir = g_build_filename(scratch_root, "service", NULL);
	if (g_mkdir(service_dir, 0700) != 0)
		g_error("cannot make %s", service_dir);

	write_file("index.js", "", 0);
	write_file("run", "#!/bin/sh\n", 10);
	run = g_build_filename(service_dir, "run", NULL);
	g_chmod(run, 0700);
	atexit(remove_scratch);
}

static void
check_manifest_alone(GBytes *manifest)
{
	g_autoptr(JsonNode) node = fuzz_parse_bytes(manifest);

	if (node != NULL && JSON_NODE_HOLDS_OBJECT(node))
		(void)stdiolink_service_check_manifest(json_node_get_object(node), NULL);
}

static void
exercise_service(StdiolinkService *service)
{
	const char *const project_ids[] = {"b", "a", NULL};
	g_autoptr(JsonNode) list = stdiolink_service_to_list_json(service, scratch_root, 2);
	g_autoptr(JsonNode) detail =
		stdiolink_service_to_detail_json(service, scratch_root, project_ids);
	g_autofree char *display =
		stdiolink_path_display(stdiolink_service_get_entry_path(service), scratch_root);

	fuzz_render(list);
	fuzz_render(detail);
	g_assert_nonnull(display);
	g_assert_nonnull(stdiolink_service_get_id(service));
	g_assert_nonnull(stdiolink_service_get_schema(service));
	(void)stdiolink_service_get_runtime(service);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput in;
	g_autoptr(GBytes) manifest = NULL;
	g_autoptr(GBytes) schema = NULL;
	g_autoptr(StdiolinkService) service = NULL;
	g_autoptr(GError) error = NULL;
	gsize length = 0;
	gconstpointer bytes;

	ensure_scratch();
	fuzz_input_init(&in, data, size);
	manifest = fuzz_input_next(&in);
	schema = fuzz_input_next(&in);
	if (schema == NULL)
		schema = g_bytes_new_static("{}", 2);

	check_manifest_alone(manifest);
	bytes = g_bytes_get_data(manifest, &length);
	write_file("manifest.json", bytes, length);
	bytes = g_bytes_get_data(schema, &length);
	write_file("config.schema.json", bytes, length);

	service = stdiolink_service_load(service_dir, &error);
	g_assert_true((service == NULL) == (error != NULL));
	if (service != NULL)
		exercise_service(service);
	return 0;
}

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* the files of a service folder, as the files API sees them (http-api.md 4.9-4.13) */

/**
 * STDIOLINK_SERVICE_FILE_MAX:
 *
 * The largest file the files API reads or writes, in bytes.
 */
#define STDIOLINK_SERVICE_FILE_MAX (1024 * 1024)

/**
 * StdiolinkServicePath:
 *
 * A relative path inside a service folder whose every step has been checked: no step is
 * a symbolic link and every folder on the way is held open, so the operations below
 * cannot leave the service folder even if the tree changes meanwhile.
 */
typedef struct _StdiolinkServicePath StdiolinkServicePath;

char *stdiolink_service_path_normalize(const char *path, GError **error);
gboolean stdiolink_service_path_is_core_file(const char *path);

StdiolinkServicePath *stdiolink_service_path_open(const char *service_dir,
						  const char *path,
						  GError **error);
void stdiolink_service_path_free(StdiolinkServicePath *sp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkServicePath, stdiolink_service_path_free)

const char *stdiolink_service_path_get_relative(StdiolinkServicePath *sp);
gboolean stdiolink_service_path_exists(StdiolinkServicePath *sp);
gboolean stdiolink_service_path_is_file(StdiolinkServicePath *sp);

JsonNode *stdiolink_service_path_read(StdiolinkServicePath *sp,
				      const char *path_as_given,
				      GError **error);
gboolean stdiolink_service_path_replace(StdiolinkServicePath *sp,
					const char *data,
					gsize length,
					GError **error);
gboolean stdiolink_service_path_create(StdiolinkServicePath *sp,
				       const char *data,
				       gsize length,
				       GError **error);
gboolean stdiolink_service_path_delete(StdiolinkServicePath *sp, GError **error);

JsonNode *stdiolink_service_files_list(const char *service_dir, GError **error);
const char *stdiolink_service_file_type(const char *name);
char *stdiolink_service_file_content_from_body(GBytes *body, gboolean required, GError **error);
gboolean stdiolink_service_file_check_content(const char *relative,
					      const char *content,
					      GError **error);
gboolean stdiolink_service_dir_remove(const char *dir, GError **error);

G_END_DECLS

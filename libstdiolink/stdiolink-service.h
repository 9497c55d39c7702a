#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "stdiolink-schema.h"

G_BEGIN_DECLS

#define STDIOLINK_TYPE_SERVICE (stdiolink_service_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkService, stdiolink_service, STDIOLINK, SERVICE, GObject)

/**
 * StdiolinkServiceScanStats:
 * @scanned_dirs: sub-directories looked at
 * @loaded_services: services loaded
 * @failed_services: directories that failed to load or repeated an id
 *
 * The counters of one service scan (scanning.md section 2.1).
 */
typedef struct {
	guint scanned_dirs;
	guint loaded_services;
	guint failed_services;
} StdiolinkServiceScanStats;

gint stdiolink_scan_compare_names(const char *a, const char *b);
void stdiolink_scan_sort_names(GPtrArray *names);
GPtrArray *stdiolink_scan_list_subdirs(const char *parent, GError **error);

StdiolinkService *stdiolink_service_load(const char *dir, GError **error);
gboolean stdiolink_service_check_manifest(JsonObject *manifest, GError **error);
GPtrArray *stdiolink_service_scan(const char *services_dir,
				  StdiolinkServiceScanStats *stats,
				  GError **error);

const char *stdiolink_service_get_id(StdiolinkService *self);
const char *stdiolink_service_get_name(StdiolinkService *self);
const char *stdiolink_service_get_version(StdiolinkService *self);
const char *stdiolink_service_get_description(StdiolinkService *self);
const char *stdiolink_service_get_author(StdiolinkService *self);
const char *stdiolink_service_get_dir(StdiolinkService *self);
JsonObject *stdiolink_service_get_manifest(StdiolinkService *self);
StdiolinkSchema *stdiolink_service_get_schema(StdiolinkService *self);
JsonObject *stdiolink_service_get_raw_schema(StdiolinkService *self);
gboolean stdiolink_service_is_native(StdiolinkService *self);
const char *stdiolink_service_get_runtime(StdiolinkService *self);
const char *stdiolink_service_get_entry_path(StdiolinkService *self);

char *stdiolink_path_display(const char *path, const char *data_root);

JsonNode *stdiolink_service_to_list_json(StdiolinkService *self,
					 const char *data_root,
					 guint project_count);
JsonNode *stdiolink_service_to_detail_json(StdiolinkService *self,
					   const char *data_root,
					   const char *const *project_ids);

G_END_DECLS

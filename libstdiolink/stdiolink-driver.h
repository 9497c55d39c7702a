#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define STDIOLINK_TYPE_DRIVER (stdiolink_driver_get_type())
G_DECLARE_FINAL_TYPE(StdiolinkDriver, stdiolink_driver, STDIOLINK, DRIVER, GObject)

/**
 * StdiolinkDriverScanStats:
 * @scanned: directories looked at (not counting `*.failed` ones)
 * @updated: drivers loaded (several directories with one id each count)
 * @newly_failed: directories renamed to `*.failed` by this scan
 * @skipped_failed: `*.failed` directories skipped
 *
 * The counters of one driver scan (scanning.md section 3.1).
 */
typedef struct {
	guint scanned;
	guint updated;
	guint newly_failed;
	guint skipped_failed;
} StdiolinkDriverScanStats;

char *stdiolink_driver_find_executable(const char *dir);
StdiolinkDriver *stdiolink_driver_load(const char *dir, GError **error);
GPtrArray *stdiolink_driver_catalog_load(const char *drivers_dir, StdiolinkDriverScanStats *stats);

const char *stdiolink_driver_get_id(StdiolinkDriver *self);
const char *stdiolink_driver_get_dir(StdiolinkDriver *self);
const char *stdiolink_driver_get_program(StdiolinkDriver *self);
const char *stdiolink_driver_get_meta_hash(StdiolinkDriver *self);
JsonObject *stdiolink_driver_get_meta(StdiolinkDriver *self);
const char *stdiolink_driver_get_name(StdiolinkDriver *self);
const char *stdiolink_driver_get_version(StdiolinkDriver *self);

JsonNode *stdiolink_driver_meta_normalize(JsonObject *raw);

JsonNode *stdiolink_driver_to_list_json(StdiolinkDriver *self, const char *data_root);
JsonNode *stdiolink_driver_to_detail_json(StdiolinkDriver *self, const char *data_root);

G_END_DECLS

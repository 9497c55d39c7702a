#pragma once

#include <gio/gio.h>

#include "stdiolink-driver.h"

G_BEGIN_DECLS

/**
 * StdiolinkDriverScanOptions:
 * @refresh_meta: also export the metadata of folders that already have a meta file
 *   (scanning.md `refreshMeta`)
 * @parallelism: how many exports run at once; 0 means twice the number of processors
 * @timeout_ms: how long one export may run before its process group is killed; 0 means
 *   10000
 * @path_prefix: (nullable): a folder put in front of `PATH` for the exports, e.g. the
 *   daemon's own folder
 *
 * How stdiolink_driver_scan_async() runs the metadata exports.
 */
typedef struct {
	gboolean refresh_meta;
	guint parallelism;
	guint timeout_ms;
	const char *path_prefix;
} StdiolinkDriverScanOptions;

/**
 * StdiolinkDriverScanFailure:
 * @dir_name: the folder name under `drivers/`
 * @code: `scan_timeout`, `export_failed` or `invalid_data`
 * @message: what went wrong, in English
 *
 * One problem a driver scan met. A folder may have two: a failed refresh, then old
 * metadata that does not load either. An `export_failed` whose message ends in "will
 * retry on the next scan" is the daemon's trouble, not the driver's: the folder is not
 * quarantined.
 */
typedef struct {
	char *dir_name;
	char *code;
	char *message;
} StdiolinkDriverScanFailure;

/**
 * StdiolinkDriverScanResult:
 * @drivers: (element-type StdiolinkDriver): the loaded drivers, sorted by id
 * @stats: the counters of scanning.md section 3.1
 * @failures: (element-type StdiolinkDriverScanFailure): the problems met, in folder order
 *
 * What stdiolink_driver_scan_finish() returns; free it with
 * stdiolink_driver_scan_result_free().
 */
typedef struct {
	GPtrArray *drivers;
	StdiolinkDriverScanStats stats;
	GPtrArray *failures;
} StdiolinkDriverScanResult;

/**
 * StdiolinkDriverScanProgressFunc:
 * @done: how many scanned folders are finished: 0 on the first call, made once the
 *   folders are listed, then 1 to @total, increasing by one per call
 * @total: how many folders the scan looks at (`scanned`), the same in every call
 * @dir_name: (nullable): the folder just finished; %NULL on the first call
 * @user_data: the data given with the function
 *
 * Called on the main context of the caller of stdiolink_driver_scan_async().
 */
typedef void (*StdiolinkDriverScanProgressFunc)(guint done,
						guint total,
						const char *dir_name,
						gpointer user_data);

void stdiolink_driver_scan_async(const char *drivers_dir,
				 const StdiolinkDriverScanOptions *options,
				 StdiolinkDriverScanProgressFunc progress,
				 gpointer progress_data,
				 GCancellable *cancellable,
				 GAsyncReadyCallback callback,
				 gpointer user_data);
StdiolinkDriverScanResult *stdiolink_driver_scan_finish(GAsyncResult *res, GError **error);
void stdiolink_driver_scan_result_free(StdiolinkDriverScanResult *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StdiolinkDriverScanResult, stdiolink_driver_scan_result_free)

G_END_DECLS

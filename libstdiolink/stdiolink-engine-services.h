#pragma once

#include "stdiolink-engine.h"

G_BEGIN_DECLS

/* authoring services: create, delete, and their files (http-api.md 4.2, 4.5, 4.9-4.13) */

void stdiolink_engine_create_service_async(StdiolinkEngine *self,
					   JsonObject *body,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data);
void stdiolink_engine_delete_service_async(StdiolinkEngine *self,
					   const char *id,
					   gboolean force,
					   GCancellable *cancellable,
					   GAsyncReadyCallback callback,
					   gpointer user_data);
void stdiolink_engine_list_service_files_async(StdiolinkEngine *self,
					       const char *id,
					       GCancellable *cancellable,
					       GAsyncReadyCallback callback,
					       gpointer user_data);
void stdiolink_engine_read_service_file_async(StdiolinkEngine *self,
					      const char *id,
					      const char *path,
					      GCancellable *cancellable,
					      GAsyncReadyCallback callback,
					      gpointer user_data);
void stdiolink_engine_write_service_file_async(StdiolinkEngine *self,
					       const char *id,
					       const char *path,
					       GBytes *body,
					       GCancellable *cancellable,
					       GAsyncReadyCallback callback,
					       gpointer user_data);
void stdiolink_engine_create_service_file_async(StdiolinkEngine *self,
						const char *id,
						const char *path,
						GBytes *body,
						GCancellable *cancellable,
						GAsyncReadyCallback callback,
						gpointer user_data);
void stdiolink_engine_delete_service_file_async(StdiolinkEngine *self,
						const char *id,
						const char *path,
						GCancellable *cancellable,
						GAsyncReadyCallback callback,
						gpointer user_data);
JsonNode *stdiolink_engine_service_op_finish(StdiolinkEngine *self,
					     GAsyncResult *res,
					     JsonObject **error_fields,
					     GError **error);

G_END_DECLS

#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

char *stdiolink_driver_docs_render(JsonObject *meta,
				   const char *format,
				   const char *program,
				   const char **content_type);
char *stdiolink_driver_docs_render_api(JsonObject *detail,
				       const char *format,
				       const char **content_type,
				       GError **error);

G_END_DECLS

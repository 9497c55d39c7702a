#pragma once

#include "stdiolink-engine.h"
#include "stdiolink-service.h"

G_BEGIN_DECLS

/*
 * The engine's tables, for the other stdiolink-engine-*.c files. Main thread only; not
 * installed.
 */

StdiolinkService *stdiolink_engine_lookup_service(StdiolinkEngine *self, const char *id);
void stdiolink_engine_put_service(StdiolinkEngine *self, const char *key, StdiolinkService *svc);
GPtrArray *stdiolink_engine_get_service_project_ids(StdiolinkEngine *self,
						    const char *service_id);
void stdiolink_engine_invalidate_project(StdiolinkEngine *self,
					 const char *id,
					 const char *reason);

G_END_DECLS

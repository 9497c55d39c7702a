#pragma once

/* the one header applications include */

#include "stdiolink-client.h"
#include "stdiolink-engine.h"
#include "stdiolink-error.h"
#include "stdiolink-event-bus.h"
#include "stdiolink-instance.h"
#include "stdiolink-instance-manager.h"
#include "stdiolink-log-writer.h"
#include "stdiolink-json.h"
#include "stdiolink-schema.h"
#include "stdiolink-project.h"
#include "stdiolink-schedule.h"
#include "stdiolink-util.h"
#include "stdiolink-server-config.h"
#include "stdiolink-service.h"
#include "stdiolink-driver.h"

// SPDX-License-Identifier: Apache-2.0
#pragma once

/// `constellation-agent traefik <render|serve> ...` (argv after "traefik"). Returns the exit code.
int traefik_command(int argc, char** argv);

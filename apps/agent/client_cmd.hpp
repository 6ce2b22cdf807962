// SPDX-License-Identifier: Apache-2.0
#pragma once

/// The commands that talk to a running agent's API (members, services, health, leases, kv,
/// keyring, render traefik, raft, status). Returns the process exit code, or -1 when `command`
/// is not one of them.
int client_command(const char* command, int argc, char** argv);
/// Usage lines for those commands.
const char* client_usage();

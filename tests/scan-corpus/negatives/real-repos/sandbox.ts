const child = spawn(cmd, { pwd: args.logicalCwd, env });

using Apptork.Root.Tests.Infrastructure.Servers;
using Xunit;

// One instance of each server for the whole test run; tests isolate themselves inside it
// (a database per test class, their own keys and object names).
[assembly: AssemblyFixture(typeof(PostgresServer))]
[assembly: AssemblyFixture(typeof(RedisServer))]
[assembly: AssemblyFixture(typeof(S3Server))]
[assembly: AssemblyFixture(typeof(SmtpServer))]

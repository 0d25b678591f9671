using System.Diagnostics;

namespace WalletDebits;

/// <summary>Debits completed and the time they took, from the start until the last worker finished.</summary>
internal sealed record Measurement(long Debits, TimeSpan Elapsed)
{
    public double DebitsPerSecond => Debits / Elapsed.TotalSeconds;
}

/// <summary>The one load loop every run uses, so the API and the raw SQL are driven exactly alike.</summary>
internal static class LoadLoop
{
    /// <summary>
    /// <paramref name="concurrency"/> workers, each starting its next debit as soon as its last one finished, until the
    /// shared stopwatch passes <paramref name="duration"/>. The first failure stops every worker and is rethrown.
    /// </summary>
    public static async Task<Measurement> RunAsync(int concurrency, TimeSpan duration, Func<Task> debit)
    {
        using var failed = new CancellationTokenSource();
        var stopwatch = Stopwatch.StartNew();
        var completed = await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(WorkAsync)));
        return new Measurement(completed.Sum(), stopwatch.Elapsed);

        async Task<long> WorkAsync()
        {
            long debits = 0;
            try
            {
                while (!failed.IsCancellationRequested && stopwatch.Elapsed < duration)
                {
                    await debit();
                    debits++;
                }
            }
            catch
            {
                await failed.CancelAsync();
                throw;
            }

            return debits;
        }
    }
}

using System.Collections.Concurrent;
using System.Linq.Expressions;
using Hangfire;

namespace Apptork.Root.Platform.Jobs;

/// <summary>
/// Enqueues Hangfire jobs from requests without blocking a thread-pool thread. Hangfire's client is synchronous: an
/// enqueue waits on a dozen round trips to the job storage, and a burst of requests doing that starves the thread pool,
/// so every request slows, holds its database connection longer, and the pool runs dry (bench/generations.sh measured 64
/// generations created per second with 32 clients, then 500s). Here the enqueues run on a few threads of their own that
/// requests await; jobs enqueued by jobs run on Hangfire's own worker threads and use its client directly.
/// </summary>
public sealed class JobEnqueuer : IDisposable
{
    private const int Threads = 4;

    private readonly IBackgroundJobClient jobs;
    private readonly BlockingCollection<Action> pending = [];
    private readonly Thread[] threads;

    public JobEnqueuer(IBackgroundJobClient jobs)
    {
        this.jobs = jobs;
        threads = [.. Enumerable.Range(1, Threads).Select(number => new Thread(Drain) { IsBackground = true, Name = $"Job enqueuer #{number}" })];
        foreach (var thread in threads)
        {
            thread.Start();
        }
    }

    /// <summary>The job's id once the storage holds it.</summary>
    public Task<string> EnqueueAsync<TJob>(Expression<Func<TJob, Task>> call) => SubmitAsync(() => jobs.Enqueue(call));

    /// <summary>The job, to run once <paramref name="delay"/> has passed; its id once the storage holds it.</summary>
    public Task<string> ScheduleAsync<TJob>(Expression<Func<TJob, Task>> call, TimeSpan delay) => SubmitAsync(() => jobs.Schedule(call, delay));

    private Task<string> SubmitAsync(Func<string> submit)
    {
        var enqueued = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The caller's context (its request, for the job's correlation and user ids) goes with the work to the other thread.
        var context = ExecutionContext.Capture();
        pending.Add(() =>
        {
            try
            {
                if (context is null)
                {
                    enqueued.SetResult(submit());
                }
                else
                {
                    ExecutionContext.Run(context, _ => enqueued.SetResult(submit()), null);
                }
            }
            catch (Exception exception)
            {
                enqueued.SetException(exception);
            }
        });
        return enqueued.Task;
    }

    public void Dispose()
    {
        pending.CompleteAdding();
        foreach (var thread in threads)
        {
            thread.Join();
        }

        pending.Dispose();
    }

    private void Drain()
    {
        foreach (var work in pending.GetConsumingEnumerable())
        {
            work();
        }
    }
}

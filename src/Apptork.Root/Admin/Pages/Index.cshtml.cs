using Apptork.Root.Admin.Dashboard;
using Apptork.Root.Platform.Persistence;
using Hangfire;

namespace Apptork.Root.Admin.Pages;

/// <summary>The dashboard, open to every enrolled staff member.</summary>
public sealed class IndexModel(RootDbContext database, JobStorage jobs, DashboardHealth health, TimeProvider time) : AdminPageModel
{
    public DashboardFigures? Figures { get; private set; }

    public HealthSummary? Health { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Figures = await DashboardFigures.ReadAsync(database, jobs, time, cancellationToken);
        Health = await health.ReadAsync(cancellationToken);
    }
}

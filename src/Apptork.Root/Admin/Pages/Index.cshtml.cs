using Apptork.Root.Admin.Dashboard;
using Apptork.Root.Platform.Persistence;

namespace Apptork.Root.Admin.Pages;

/// <summary>The dashboard, open to every enrolled staff member.</summary>
public sealed class IndexModel(RootDbContext database, TimeProvider time) : AdminPageModel
{
    public DashboardFigures? Figures { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken) => Figures = await DashboardFigures.ReadAsync(database, time, cancellationToken);
}

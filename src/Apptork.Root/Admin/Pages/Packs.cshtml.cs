using Apptork.Root.Admin.Packs;

namespace Apptork.Root.Admin.Pages;

/// <summary>The credit packs, sold or not, with their names in every language: finance reads them, superusers edit them.</summary>
public sealed class PacksModel(PackEditor packs) : AdminPageModel
{
    public IReadOnlyList<PackState> Packs { get; private set; } = [];

    public bool CanEdit => User.IsInRole(Staff.StaffRoles.Superuser);

    public async Task OnGetAsync(string? saved, CancellationToken cancellationToken)
    {
        Packs = await packs.ListAsync(cancellationToken);
        Notice = saved is null ? null : "PackSavedNotice";
    }
}

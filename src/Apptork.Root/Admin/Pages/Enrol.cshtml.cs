using Apptork.Root.Admin.Staff;
using Microsoft.AspNetCore.Mvc;
using QRCoder;

namespace Apptork.Root.Admin.Pages;

/// <summary>
/// The one-time link's page: set a password, scan the TOTP secret, confirm a code, and see the recovery codes once.
/// The link's token travels in each form, and is spent when the code is confirmed.
/// </summary>
public sealed class EnrolModel(StaffAccounts accounts) : AdminPageModel
{
    public enum EnrolStep
    {
        InvalidLink,
        Password,
        ScanCode,
        Done,
    }

    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    [BindProperty]
    public string? Password { get; set; }

    [BindProperty]
    public string? PasswordConfirmation { get; set; }

    [BindProperty]
    public string? Code { get; set; }

    public EnrolStep Step { get; private set; }

    public string? Email { get; private set; }

    public string? Secret { get; private set; }

    public string? QrCodeDataUri { get; private set; }

    public IReadOnlyList<string> RecoveryCodes { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Show(await accounts.FindByEnrolmentTokenAsync(Token, cancellationToken), EnrolStep.Password);

    public async Task OnPostPasswordAsync(CancellationToken cancellationToken)
    {
        var staff = await accounts.FindByEnrolmentTokenAsync(Token, cancellationToken);
        if (staff is null)
        {
            Show(null, EnrolStep.InvalidLink);
            return;
        }

        Error = await accounts.SetPasswordAsync(staff, Password, PasswordConfirmation, cancellationToken);
        Show(staff, Error is null ? EnrolStep.ScanCode : EnrolStep.Password);
    }

    public async Task OnPostCodeAsync(CancellationToken cancellationToken)
    {
        var staff = await accounts.FindByEnrolmentTokenAsync(Token, cancellationToken);
        if (staff?.PasswordHash is null)
        {
            Show(staff, EnrolStep.Password);
            return;
        }

        var codes = await accounts.CompleteEnrolmentAsync(staff, Code, Actor, cancellationToken);
        if (codes is null)
        {
            Error = "ErrorCodeWrong";
            Show(staff, EnrolStep.ScanCode);
            return;
        }

        RecoveryCodes = codes;
        Show(staff, EnrolStep.Done);
    }

    private void Show(StaffMember? staff, EnrolStep step)
    {
        Step = staff is null ? EnrolStep.InvalidLink : step;
        Email = staff?.Email;
        if (Step == EnrolStep.ScanCode)
        {
            var (secret, uri) = accounts.TotpEnrolment(staff!);
            Secret = secret;
            // A data: URI image: no script and no extra route, within the page's CSP (img-src 'self' data:).
            using var generator = new QRCodeGenerator();
            using var data = generator.CreateQrCode(uri, QRCodeGenerator.ECCLevel.M);
            QrCodeDataUri = $"data:image/png;base64,{Convert.ToBase64String(new PngByteQRCode(data).GetGraphic(5))}";
        }
    }
}

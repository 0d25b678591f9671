using System.Globalization;
using System.Text;
using Apptork.Root.Platform.Errors;
using FluentValidation;

namespace Apptork.Root.Platform.Validation;

/// <summary>Rules for text other people see: names of files and of users.</summary>
public static class SafeTextRules
{
    /// <summary>
    /// Refuses control (Cc) and formatting (Cf) characters and unpaired surrogates: a right-to-left override (U+202E)
    /// shows <c>invoice[U+202E]fdp.exe</c> as <c>invoiceexe.pdf</c>, and isolates, marks and zero-width
    /// characters hide text or make two names look alike. The zero-width joiner and non-joiner (U+200C, U+200D) stay:
    /// Persian and Indic scripts and emoji sequences need them.
    /// </summary>
    public static IRuleBuilderOptions<T, string?> DisplayableText<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(text => text is null || IsDisplayable(text)).WithErrorCode(ErrorCatalog.ControlCharacters.Code);

    public static bool IsDisplayable(string text)
    {
        var remaining = text.AsSpan();
        while (!remaining.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(remaining, out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                return false;
            }

            if (Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format && rune.Value is not (0x200C or 0x200D))
            {
                return false;
            }

            remaining = remaining[consumed..];
        }

        return true;
    }
}

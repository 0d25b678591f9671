using FluentValidation;

namespace Apptork.Root.Features.Messages;

public static class MessagesModule
{
    public static WebApplicationBuilder AddMessages(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<IValidator<MessageBody>, MessageBodyValidator>();
        builder.Services.AddSingleton<IValidator<MessagePatch>, MessagePatchValidator>();
        builder.Services.AddSingleton<MessageBoard>();
        builder.Services.AddScoped<MessageChanges>();
        builder.Services.AddHostedService(services => services.GetRequiredService<MessageBoard>());
        return builder;
    }
}
